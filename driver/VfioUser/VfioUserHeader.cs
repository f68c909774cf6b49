using System.Buffers.Binary;
using NicScript.Driver.Wire;

namespace NicScript.Driver.VfioUser;

/// <summary>The 16-byte header in front of every vfio-user message.</summary>
/// <remarks>
/// Layout (little-endian, QEMU <c>hw/vfio-user/protocol.h</c> <c>VFIOUserHdr</c>): message id u16 at 0, command u16 at 2,
/// message size u32 at 4 (header included), flags u32 at 8 (type bits 0–3: 0 command, 1 reply; bit 4 no reply; bit 5
/// error; bits 6–31 reserved), error u32 at 12 (an errno, in an error reply only). <see cref="TryRead"/> refuses a size
/// smaller than the header, a type other than command or reply, reserved bits and an unknown command. The message id is
/// not checked: any value is the client's to choose, and the reply carries it back.
/// </remarks>
internal readonly record struct VfioUserHeader(ushort MessageId, VfioUserCommand Command, uint MessageSize, uint Flags, uint Error)
{
    public const int Size = 16;
    public const uint TypeMask = 0xF, TypeCommand = 0, TypeReply = 1, NoReply = 0x10, ErrorFlag = 0x20;
    private const uint KnownFlags = TypeMask | NoReply | ErrorFlag;

    public bool IsCommand => (Flags & TypeMask) == TypeCommand;

    public bool WantsReply => (Flags & NoReply) == 0;

    public static WireError TryRead(ReadOnlySpan<byte> bytes, out VfioUserHeader header)
    {
        header = default;
        if (bytes.Length < Size) return WireError.Truncated;
        var h = new VfioUserHeader(BinaryPrimitives.ReadUInt16LittleEndian(bytes), (VfioUserCommand)BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]), BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]), BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]));
        if (h.MessageSize < Size) return WireError.Truncated;
        if ((h.Flags & ~KnownFlags) != 0) return WireError.ReservedBitsSet;
        if ((h.Flags & TypeMask) > TypeReply || !Enum.IsDefined(h.Command)) return WireError.UnknownEnumValue;
        header = h;
        return WireError.None;
    }

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, MessageId);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[2..], (ushort)Command);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], MessageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[12..], Error);
    }
}
