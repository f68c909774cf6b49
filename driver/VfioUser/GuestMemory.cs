using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NicScript.Driver.Memory;

namespace NicScript.Driver.VfioUser;

/// <summary>A guest's RAM as one exported function's device sees it: the ranges its vfio-user client mapped with
/// <c>DMA_MAP</c>, at the guest's own addresses, and nothing else.</summary>
/// <remarks>
/// Design: each mapping is mmapped from the client's fd and placed in a <see cref="DmaMemory"/> of its own as external
/// regions (at most 1 GiB each, the largest a region may be) at the guest-physical IOVA; <see cref="Domain"/> is an
/// <see cref="IommuDomain"/> over that memory with the guest's owner attached, so a device model made with it runs
/// unchanged — the same lookups, the same revocation count, the same fault reports — against the guest's RAM, and an
/// access outside every mapping is a counted, reported DMA fault that touches nothing. A read-only mapping is mapped
/// private and copy-on-write and owned by a second owner that lends it to the guest's, so the domain refuses device writes
/// to it and a stray write could never reach the guest's file.
/// Only memory sealed against shrinking is mapped (<c>F_SEAL_SHRINK</c>, which QEMU's <c>memory-backend-memfd</c> sets by
/// default): a client that truncated a mapped file would turn the device's next access into a SIGBUS that takes the whole
/// process down, every function with it.
/// Unmapping: the regions leave the memory first (devices lose them at once, the revocation count moves), then the
/// guest's pages are replaced in place by anonymous ones (<c>MAP_FIXED</c>), so a device thread still holding a span
/// from before writes into memory we own rather than faulting; those stand-ins are released with
/// <see cref="ReleaseAll"/>, after the device has been reset. Every call takes <c>_sync</c>; the data path never does.
/// </remarks>
public sealed unsafe class GuestMemory : IDisposable
{
    /// <summary>The most mappings a client may hold (the <c>max_dma_maps</c> the server announces).</summary>
    public const int MaxMappings = 1024;

    /// <summary>The most guest memory a client may map in all: far beyond a guest QEMU runs under TCG, and a bound on the
    /// regions (one per GiB) a hostile client can make the server keep.</summary>
    public const ulong MaxMappedBytes = 1UL << 40;

    /// <summary>The page size mappings are aligned to (the <c>pgsizes</c> the server announces).</summary>
    public const ulong PageSize = 4096;

    private const int Einval = 22, Eexist = 17, Enoent = 2, Enospc = 28, Ebadf = 9;

    private readonly object _sync = new();
    private readonly List<GuestMapping> _mappings = new();
    private readonly List<(nint Base, nuint Size)> _standIns = new();
    private readonly DmaOwner _guest, _readOnly;

    /// <param name="function">The function's address, as faults name it.</param>
    /// <param name="faults">Where the device's DMA faults go (the machine's device events), or null.</param>
    public GuestMemory(string function, IDmaFaultSink? faults = null)
    {
        Memory = new DmaMemory();
        _guest = Memory.CreateOwner("guest " + function, long.MaxValue);
        _readOnly = Memory.CreateOwner("guest " + function + " read-only", long.MaxValue);
        Domain = new IommuDomain(Memory, function, faults);
        Domain.Attach(_guest);
    }

    /// <summary>The guest's mapped RAM as external DMA regions.</summary>
    public DmaMemory Memory { get; }

    /// <summary>The DMA space to make the exported function's device model with.</summary>
    public IommuDomain Domain { get; }

    /// <summary>The mappings the client holds now, by IOVA.</summary>
    public IReadOnlyList<GuestMapping> Mappings
    {
        get { lock (_sync) return _mappings.ToArray(); }
    }

    /// <summary>Maps [<paramref name="iova"/>, +<paramref name="size"/>) of the guest from <paramref name="fd"/> at
    /// <paramref name="offset"/> (or records it unreachable when <paramref name="fd"/> is null); 0, or the errno to reply
    /// with and <paramref name="reason"/>.</summary>
    public int TryMap(SafeFileHandle? fd, ulong offset, ulong iova, ulong size, bool writable, out string reason)
    {
        reason = "";
        if (size == 0 || iova % PageSize != 0 || size % PageSize != 0 || offset % PageSize != 0)
            return Refuse(Einval, $"iova 0x{iova:x} size 0x{size:x} offset 0x{offset:x} not page-aligned or empty", out reason);
        if (iova + size < iova || offset + size < offset || size > long.MaxValue)
            return Refuse(Einval, $"iova 0x{iova:x} size 0x{size:x} wraps", out reason);
        lock (_sync)
        {
            if (_mappings.Count >= MaxMappings) return Refuse(Enospc, $"{MaxMappings} mappings held already", out reason);
            ulong mapped = 0;
            foreach (GuestMapping m in _mappings) mapped += m.Size;
            if (size > MaxMappedBytes - mapped) return Refuse(Enospc, $"0x{size:x} more bytes would pass the 0x{MaxMappedBytes:x} a client may map", out reason);
            foreach (GuestMapping m in _mappings)
                if (m.Overlaps(iova, size)) return Refuse(Eexist, $"0x{iova:x}+0x{size:x} overlaps the mapping at 0x{m.Iova:x}+0x{m.Size:x}", out reason);
            if (fd is null)
            {
                Insert(new GuestMapping(iova, size, offset, writable, 0, []));
                return 0;
            }
            int raw = (int)fd.DangerousGetHandle();
            long fileSize = Libc.FileSize(raw);
            if (fileSize < 0) return Refuse(Ebadf, "the fd is not a file", out reason);
            if (offset + size > (ulong)fileSize)
                return Refuse(Einval, $"offset 0x{offset:x} + size 0x{size:x} is beyond the fd's 0x{fileSize:x} bytes", out reason);
            if (Libc.fcntl(raw, Libc.FGetSeals, 0) is var seals && (seals < 0 || (seals & Libc.FSealShrink) == 0))
                return Refuse(Einval, "the fd is not sealed against shrinking (as QEMU's memory-backend-memfd seals it)", out reason);
            nint at = Libc.mmap(0, (nuint)size, Libc.ProtRead | Libc.ProtWrite, writable ? Libc.MapShared : Libc.MapPrivate | Libc.MapNoReserve, raw, (long)offset);
            if (at == Libc.MapFailed)
            {
                int errno = Marshal.GetLastPInvokeError();
                return Refuse(errno == 0 ? Einval : errno, $"mmap of the fd failed (errno {errno})", out reason);
            }
            var regions = new List<DmaRegion>();
            for (ulong done = 0; done < size; done += (ulong)DmaMemory.MaxRegionBytes)
            {
                int length = (int)Math.Min(size - done, (ulong)DmaMemory.MaxRegionBytes);
                DmaError e = Memory.TryAddExternal(writable ? _guest : _readOnly, iova + done, length, (byte*)at + done, out DmaRegion region);
                if (e == DmaError.None && !writable) e = region.Lend(_readOnly, _guest);
                if (e != DmaError.None)
                {
                    foreach (DmaRegion r in regions) Memory.RemoveExternal(r);
                    Libc.munmap(at, (nuint)size);
                    return Refuse(Einval, $"0x{iova:x}+0x{size:x} cannot be placed: {e}", out reason);
                }
                regions.Add(region);
            }
            Insert(new GuestMapping(iova, size, offset, writable, at, regions.ToArray()));
            return 0;
        }
    }

    /// <summary>Ends every mapping inside [<paramref name="iova"/>, +<paramref name="size"/>); 0, or the errno to reply with
    /// (a range that cuts a mapping, or that holds none, changes nothing).</summary>
    public int TryUnmap(ulong iova, ulong size, out string reason)
    {
        reason = "";
        if (size == 0 || iova + size < iova) return Refuse(Einval, $"iova 0x{iova:x} size 0x{size:x} is empty or wraps", out reason);
        lock (_sync)
        {
            int found = 0;
            foreach (GuestMapping m in _mappings)
            {
                if (!m.Overlaps(iova, size)) continue;
                if (m.Iova < iova || m.Iova + m.Size > iova + size)
                    return Refuse(Einval, $"0x{iova:x}+0x{size:x} cuts the mapping at 0x{m.Iova:x}+0x{m.Size:x}", out reason);
                found++;
            }
            if (found == 0) return Refuse(Enoent, $"nothing is mapped in 0x{iova:x}+0x{size:x}", out reason);
            for (int i = _mappings.Count - 1; i >= 0; i--)
            {
                if (!_mappings[i].Overlaps(iova, size)) continue;
                Withdraw(_mappings[i]);
                _mappings.RemoveAt(i);
            }
            return 0;
        }
    }

    /// <summary>Ends every mapping (<c>DMA_UNMAP</c> with the all flag); the stand-ins stay until <see cref="ReleaseAll"/>.</summary>
    public void UnmapAll()
    {
        lock (_sync)
        {
            foreach (GuestMapping m in _mappings) Withdraw(m);
            _mappings.Clear();
        }
    }

    /// <summary>The client left and its device was reset: every mapping and stand-in goes back to the OS.</summary>
    public void ReleaseAll()
    {
        lock (_sync)
        {
            UnmapAll();
            foreach (var (at, size) in _standIns) Libc.munmap(at, size);
            _standIns.Clear();
        }
    }

    public void Dispose()
    {
        ReleaseAll();
        Memory.Dispose();
    }

    private void Insert(GuestMapping mapping)
    {
        int at = _mappings.FindIndex(m => m.Iova > mapping.Iova);
        _mappings.Insert(at < 0 ? _mappings.Count : at, mapping);
    }

    /// <summary>Takes a mapping's regions away from the device, then swaps the guest's pages for anonymous stand-ins.</summary>
    private void Withdraw(GuestMapping mapping)
    {
        foreach (DmaRegion r in mapping.Regions) Memory.RemoveExternal(r);
        if (!mapping.Reachable) return;
        nint standIn = Libc.mmap(mapping.Base, (nuint)mapping.Size, Libc.ProtRead | Libc.ProtWrite,
            Libc.MapPrivate | Libc.MapAnonymous | Libc.MapFixed | Libc.MapNoReserve, -1, 0);
        if (standIn == Libc.MapFailed) Libc.munmap(mapping.Base, (nuint)mapping.Size);
        else _standIns.Add((mapping.Base, (nuint)mapping.Size));
    }

    private static int Refuse(int errno, string why, out string reason)
    {
        reason = why;
        return errno;
    }
}
