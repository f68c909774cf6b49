namespace NicScript.Driver.NetDevice;

/// <summary>A fixed-capacity double-ended ring of 16-bit descriptor indices: FIFOs and buffer pools without allocation.</summary>
internal sealed class IndexRing(int capacity)
{
    private readonly ushort[] _items = new ushort[Math.Max(1, capacity)];
    private int _head, _count;

    public int Count => _count;
    public int Capacity => _items.Length;
    public int Room => _items.Length - _count;

    public bool TryPushBack(ushort value)
    {
        if (_count == _items.Length) return false;
        _items[(_head + _count++) % _items.Length] = value;
        return true;
    }

    public bool TryPushFront(ushort value)
    {
        if (_count == _items.Length) return false;
        _head = (_head + _items.Length - 1) % _items.Length;
        _items[_head] = value;
        _count++;
        return true;
    }

    public ushort PopFront()
    {
        if (_count == 0) throw new InvalidOperationException("the ring is empty");
        ushort v = _items[_head];
        _head = (_head + 1) % _items.Length;
        _count--;
        return v;
    }

    public ushort PopBack()
    {
        if (_count == 0) throw new InvalidOperationException("the ring is empty");
        _count--;
        return _items[(_head + _count) % _items.Length];
    }

    public void Clear() => _head = _count = 0;
}
