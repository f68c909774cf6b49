using System.Buffers.Binary;
using static NicScript.Driver.Devices.Mana.ManaRegisters;

namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>Builds an HWC response: gdma_resp_hdr echoing the request's type, message id, device and activity, then the body.</summary>
/// <remarks>The transport makes one per request and hands it to the client with requests addressed to the client, so both
/// answer alike.</remarks>
internal sealed class GdmaAnswer
{
    private readonly uint _msgType, _activity, _devId;
    private readonly ushort _hwcMsgId;

    public GdmaAnswer(ReadOnlySpan<byte> req)
    {
        Span<byte> hdr = stackalloc byte[GdmaReqHdrView.WireSize];
        hdr.Clear();
        req[..Math.Min(req.Length, hdr.Length)].CopyTo(hdr);
        _msgType = BinaryPrimitives.ReadUInt32LittleEndian(hdr[4..]);
        _hwcMsgId = BinaryPrimitives.ReadUInt16LittleEndian(hdr[10..]);
        Version = Math.Max((ushort)1, BinaryPrimitives.ReadUInt16LittleEndian(hdr[24..]));
        _devId = BinaryPrimitives.ReadUInt32LittleEndian(hdr[32..]);
        _activity = BinaryPrimitives.ReadUInt32LittleEndian(hdr[36..]);
    }

    public ushort Version { get; set; }

    public uint Status { get; private set; }

    public byte[] Fail(uint status)
    {
        Status = status;
        return Build(GdmaGeneralRespView.WireSize, null);
    }

    public byte[] Ok(int size, Action<byte[]>? body) => Build(size, body);

    /// <summary>The status for a body that failed its view: too short, or a reserved/enum violation.</summary>
    public static uint Invalid(ReadOnlySpan<byte> req, int size) => req.Length < size ? StatusLengthMismatch : StatusInvalidParameter;

    private byte[] Build(int size, Action<byte[]>? body)
    {
        var b = new byte[size];
        body?.Invoke(b);
        var w = new GdmaRespHdrWriter(b);
        w.ResponseMsgType = _msgType;
        w.ResponseMsgVersion = Version;
        w.ResponseHwcMsgId = _hwcMsgId;
        w.ResponseMsgSize = (uint)size;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), _devId);
        w.ActivityId = _activity;
        w.Status = Status;
        return b;
    }
}
