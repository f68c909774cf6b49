namespace NicScript.Driver.NetDevice;

/// <summary>The rx buffers an emulated NIC holds, oldest first: taking from the front is O(1), the rare removals elsewhere shift.</summary>
/// <remarks>The capacity is a power of two (64, doubled when full): a slot is masked, not divided, at every frame's look.</remarks>
internal sealed class RxSpaceRing
{
    private (Session Session, ushort Index)[] _items = new (Session, ushort)[64];
    private int _head, _count;

    public int Count => _count;

    public (Session Session, ushort Index) this[int i] => _items[(_head + i) & (_items.Length - 1)];

    public void Add(Session s, ushort index)
    {
        if (_count == _items.Length) Grow();
        _items[(_head + _count++) & (_items.Length - 1)] = (s, index);
    }

    public void RemoveFront(int n)
    {
        for (int i = 0; i < n; i++) _items[(_head + i) & (_items.Length - 1)] = default;
        _head = (_head + n) & (_items.Length - 1);
        _count -= n;
    }

    public void RemoveAt(int at)
    {
        for (int i = at; i < _count - 1; i++) _items[(_head + i) & (_items.Length - 1)] = _items[(_head + i + 1) & (_items.Length - 1)];
        _items[(_head + _count - 1) & (_items.Length - 1)] = default;
        _count--;
    }

    public int FindIndex(Func<(Session Session, ushort Index), bool> match)
    {
        for (int i = 0; i < _count; i++)
            if (match(this[i])) return i;
        return -1;
    }

    private void Grow()
    {
        var bigger = new (Session, ushort)[_items.Length * 2];
        for (int i = 0; i < _count; i++) bigger[i] = this[i];
        _items = bigger;
        _head = 0;
    }
}
