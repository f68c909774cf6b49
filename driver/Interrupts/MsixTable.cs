using System.Buffers.Binary;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Interrupts;

/// <summary>A function's MSI-X table and pending-bit array (PCI 3.0 §6.8.2), decoded inside one of its BARs.</summary>
/// <remarks>
/// Each entry is 16 bytes: message address (lo, hi), message data, vector control (bit 0: mask). A vector that is
/// signalled while masked — its own bit, the function mask, or MSI-X disabled — sets its pending bit instead of
/// interrupting; unmasking a pending vector delivers it then. The capability's Message Control (enable bit 15,
/// function mask bit 14) lives in configuration space and is read at each signal.
/// </remarks>
public sealed class MsixTable
{
    public const byte CapabilityId = 0x11;
    public const int EntrySize = 16;

    private readonly byte[] _table;
    private readonly ulong[] _pending;
    private readonly MsixVector[] _vectors;
    private readonly object _sync = new();
    private PciFunction? _function;
    private int _capability;
    private volatile bool _forwarded;

    /// <summary>The function the table is attached to (null before <see cref="Attach"/>).</summary>
    internal PciFunction? Function => _function;

    public MsixTable(int count)
    {
        if (count is < 1 or > 2048) throw new ArgumentOutOfRangeException(nameof(count));
        _table = new byte[count * EntrySize];
        _pending = new ulong[(count + 63) / 64];
        _vectors = new MsixVector[count];
        for (int i = 0; i < count; i++)
        {
            _vectors[i] = new MsixVector(this, i);
            BinaryPrimitives.WriteUInt32LittleEndian(_table.AsSpan(i * EntrySize + 12), 1); // masked at reset
        }
    }

    public int Count => _vectors.Length;

    public int TableBytes => _table.Length;

    public int PbaBytes => _pending.Length * 8;

    public MsixVector Vector(int index) => _vectors[index];

    /// <summary>Adds the MSI-X capability to <paramref name="function"/>, with table and PBA at the given BAR offsets.</summary>
    public void Attach(PciFunction function, int bar, int tableOffset, int pbaOffset)
    {
        Span<byte> body = stackalloc byte[10];
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)(Count - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(body[2..], (uint)tableOffset | (uint)bar);
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], (uint)pbaOffset | (uint)bar);
        _capability = function.AddCapability(CapabilityId, body);
        function.Config.SetWritable(_capability + 2, 2, 0xC000); // enable, function mask
        function.Config.Written += (offset, _) =>
        {
            if (offset <= _capability + 3 && offset + 4 > _capability + 2) DeliverUnmasked();
        };
        _function = function;
    }

    private ushort Control => _function is null ? (ushort)0x8000 : _function.Config.Read16(_capability + 2);

    public bool Enabled => _forwarded || (Control & 0x8000) != 0;

    public bool FunctionMasked => !_forwarded && (Control & 0x4000) != 0;

    /// <summary>Whether a vfio-user client emulates the table: QEMU keeps the guest's table, masks and pending bits itself
    /// and never writes ours, so while it has vectors set up every signal goes straight to the vector's handler (its
    /// eventfd) and MSI-X counts as enabled.</summary>
    internal void ForwardToClient(bool on) => _forwarded = on;

    public bool IsMasked(int vector)
    {
        lock (_sync) return (BinaryPrimitives.ReadUInt32LittleEndian(_table.AsSpan(vector * EntrySize + 12)) & 1) != 0;
    }

    public bool IsPending(int vector)
    {
        lock (_sync) return (_pending[vector / 64] & (1UL << (vector % 64))) != 0;
    }

    internal void Signal(MsixVector vector)
    {
        if (_forwarded)
        {
            vector.Deliver();
            return;
        }
        lock (_sync)
        {
            if (!Enabled || FunctionMasked || (BinaryPrimitives.ReadUInt32LittleEndian(_table.AsSpan(vector.Number * EntrySize + 12)) & 1) != 0)
            {
                _pending[vector.Number / 64] |= 1UL << (vector.Number % 64);
                return;
            }
        }
        vector.Deliver();
    }

    /// <summary>Table register read (offset within the table).</summary>
    public ulong ReadTable(int offset, int size)
    {
        if (size is not (4 or 8) || offset < 0 || offset + size > _table.Length || offset % 4 != 0) return size == 8 ? ulong.MaxValue : 0xFFFF_FFFF;
        lock (_sync) return size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(_table.AsSpan(offset)) : BinaryPrimitives.ReadUInt32LittleEndian(_table.AsSpan(offset));
    }

    /// <summary>Table register write; unmasking a pending vector delivers it.</summary>
    public void WriteTable(int offset, int size, ulong value)
    {
        if (size is not (4 or 8) || offset < 0 || offset + size > _table.Length || offset % 4 != 0) return;
        lock (_sync)
        {
            if (size == 8) BinaryPrimitives.WriteUInt64LittleEndian(_table.AsSpan(offset), value);
            else BinaryPrimitives.WriteUInt32LittleEndian(_table.AsSpan(offset), (uint)value);
        }
        DeliverUnmasked();
    }

    /// <summary>PBA read: read-only pending bits.</summary>
    public ulong ReadPba(int offset, int size)
    {
        if (size is not (4 or 8) || offset < 0 || offset + size > PbaBytes || offset % 4 != 0) return size == 8 ? ulong.MaxValue : 0xFFFF_FFFF;
        lock (_sync)
        {
            ulong word = _pending[offset / 8];
            return size == 8 ? word : (uint)(word >> (offset % 8 * 8));
        }
    }

    private void DeliverUnmasked()
    {
        if (!Enabled || FunctionMasked) return;
        for (int v = 0; v < Count; v++)
        {
            bool deliver;
            lock (_sync)
            {
                ulong bit = 1UL << (v % 64);
                deliver = (_pending[v / 64] & bit) != 0 && (BinaryPrimitives.ReadUInt32LittleEndian(_table.AsSpan(v * EntrySize + 12)) & 1) == 0;
                if (deliver) _pending[v / 64] &= ~bit;
            }
            if (deliver) _vectors[v].Deliver();
        }
    }
}
