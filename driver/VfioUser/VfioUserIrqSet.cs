using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The body of <c>VFIO_USER_DEVICE_SET_IRQS</c>: what to do (trigger, mask, unmask) with a run of one index's
/// interrupts, and with what (nothing, a bool per interrupt, an eventfd per interrupt passed with the message).</summary>
/// <remarks>Layout (<c>struct vfio_irq_set</c>, 20 bytes, then data): argsz u32, flags u32, index u32, start u32, count u32.
/// Flags hold exactly one data type (bit 0 none, bit 1 bool, bit 2 eventfd) and exactly one action (bit 3 mask, bit 4
/// unmask, bit 5 trigger); every other bit is reserved. Bool data is <c>count</c> bytes after the struct; eventfds travel as
/// <c>SCM_RIGHTS</c> and are not in the body (QEMU sends argsz 20 and count = the fds sent), so the body is 20 bytes for
/// none and eventfd and 20 + count for bool, and argsz equals it.</remarks>
internal readonly record struct VfioUserIrqSet(uint Argsz, uint Flags, uint Index, uint Start, uint Count)
{
    public const int Length = 20;
    public const uint DataNone = 1, DataBool = 2, DataEventfd = 4, ActionMask = 8, ActionUnmask = 16, ActionTrigger = 32;
    private const uint DataMask = DataNone | DataBool | DataEventfd, ActionMaskBits = ActionMask | ActionUnmask | ActionTrigger;

    public uint Data => Flags & DataMask;

    public uint Action => Flags & ActionMaskBits;

    public static WireError TryRead(ReadOnlySpan<byte> body, out VfioUserIrqSet set)
    {
        set = default;
        if (body.Length < Length) return WireError.Truncated;
        var s = new VfioUserIrqSet(BinaryPrimitives.ReadUInt32LittleEndian(body), BinaryPrimitives.ReadUInt32LittleEndian(body[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(body[8..]), BinaryPrimitives.ReadUInt32LittleEndian(body[12..]), BinaryPrimitives.ReadUInt32LittleEndian(body[16..]));
        if ((s.Flags & ~(DataMask | ActionMaskBits)) != 0) return WireError.ReservedBitsSet;
        if (!IsOneBit(s.Data) || !IsOneBit(s.Action)) return WireError.UnknownEnumValue;
        long expected = Length + (s.Data == DataBool ? (long)s.Count : 0);
        if (body.Length < expected) return WireError.Truncated;
        if (body.Length > expected) return WireError.TooLong;
        if (s.Argsz != expected) return WireError.OutOfRange;
        set = s;
        return WireError.None;
    }

    public void Write(Span<byte> body)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(body, Argsz);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(body[8..], Index);
        BinaryPrimitives.WriteUInt32LittleEndian(body[12..], Start);
        BinaryPrimitives.WriteUInt32LittleEndian(body[16..], Count);
    }

    private static bool IsOneBit(uint v) => v != 0 && (v & (v - 1)) == 0;
}
