namespace NicScript.Driver.Memory;

/// <summary>Hands out page-aligned ranges of the machine's I/O virtual address space.</summary>
/// <remarks>
/// Design: first fit over a sorted list of free ranges, coalesced on free. Every range is followed by one
/// unmapped guard page, so a device that runs past the end of a buffer faults instead of reading its neighbour.
/// Allocation is rare (rings and pools are made once), so a list is enough; lookups never come here.
/// Not thread-safe: <see cref="DmaMemory"/> calls it under its lock.
/// </remarks>
internal sealed class IovaAllocator
{
    public const ulong PageSize = 4096;

    private readonly List<(ulong Start, ulong Length)> _free = new();

    public IovaAllocator(ulong baseIova, ulong size)
    {
        if (baseIova % PageSize != 0) throw new ArgumentException("IOVA base must be page-aligned.", nameof(baseIova));
        if (size < 2 * PageSize || size % PageSize != 0) throw new ArgumentException("IOVA size must be a multiple of the page size.", nameof(size));
        Base = baseIova;
        Size = size;
        _free.Add((baseIova, size));
    }

    public ulong Base { get; }

    public ulong Size { get; }

    /// <summary>Bytes a request of <paramref name="length"/> occupies: rounded to pages, plus the guard page.</summary>
    public static ulong Footprint(ulong length) => RoundUp(length) + PageSize;

    public static ulong RoundUp(ulong length) => (length + PageSize - 1) & ~(PageSize - 1);

    public bool TryAllocate(ulong length, out ulong iova)
    {
        ulong need = Footprint(length);
        for (int i = 0; i < _free.Count; i++)
        {
            var (start, len) = _free[i];
            if (len < need) continue;
            iova = start;
            if (len == need) _free.RemoveAt(i);
            else _free[i] = (start + need, len - need);
            return true;
        }
        iova = 0;
        return false;
    }

    public void Free(ulong iova, ulong length)
    {
        ulong len = Footprint(length);
        int i = 0;
        while (i < _free.Count && _free[i].Start < iova) i++;
        _free.Insert(i, (iova, len));
        if (i + 1 < _free.Count && _free[i].Start + _free[i].Length == _free[i + 1].Start)
        {
            _free[i] = (_free[i].Start, _free[i].Length + _free[i + 1].Length);
            _free.RemoveAt(i + 1);
        }
        if (i > 0 && _free[i - 1].Start + _free[i - 1].Length == _free[i].Start)
        {
            _free[i - 1] = (_free[i - 1].Start, _free[i - 1].Length + _free[i].Length);
            _free.RemoveAt(i);
        }
    }

    /// <summary>Free bytes, guard pages included.</summary>
    public ulong FreeBytes
    {
        get
        {
            ulong sum = 0;
            foreach (var r in _free) sum += r.Length;
            return sum;
        }
    }
}
