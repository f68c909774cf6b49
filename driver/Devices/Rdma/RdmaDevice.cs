using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using System.Net;
using NicScript.Driver.Memory;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Rdma;

/// <summary>An rxe-style RDMA device bound to one Ethernet function: its MRs and QPs, its receive ring, its transmit path.</summary>
public sealed partial class RdmaDevice : IFrameTap
{
    public const int MaxMr = 262_144, MaxQp = 65_536, RingSlots = 1024, SlotBytes = 9216;

    private readonly object _ringLock = new();
    private readonly byte[][] _ring = new byte[RingSlots][];
    private readonly int[] _ringLength = new int[RingSlots];
    private int _ringHead, _ringCount;
    private readonly byte[] _work = new byte[SlotBytes];
    private readonly byte[] _tx = new byte[SlotBytes];
    private readonly List<Mr?> _mrs = [null]; // index 0 is never used
    private readonly Dictionary<uint, Qp> _qps = new();
    private uint _nextQpn = 17;
    private ushort _ipId;

    internal RdmaDevice(RdmaFabric fabric, INicModel function, IommuDomain domain, IPAddress ipv4)
    {
        Fabric = fabric;
        Function = function;
        Domain = domain;
        byte[] a = ipv4.MapToIPv4().GetAddressBytes();
        Ip = BinaryPrimitives.ReadUInt32BigEndian(a);
        Gid = "::ffff:" + ipv4.MapToIPv4();
        for (int i = 0; i < RingSlots; i++) _ring[i] = new byte[SlotBytes];
    }

    public RdmaFabric Fabric { get; }
    /// <summary>The NIC function the device shares: its wire port carries the RoCEv2 frames.</summary>
    public INicModel Function { get; }

    /// <summary>The function's IOMMU domain over the fabric's memory: MRs are checked against it (sealed: no dispatch per access).</summary>
    internal IommuDomain Domain { get; }
    internal uint Ip { get; }

    /// <summary>The device's only GID, IPv4-mapped: <c>::ffff:192.0.2.1</c>.</summary>
    public string Gid { get; }

    internal byte[] Mac => Function.Mac;

    // counters (read without the lock: monotonic)
    public long TxFrames { get; private set; }
    public long RxFrames { get; private set; }
    public long RxDropped { get; private set; }
    public long RxRingFull { get; private set; }
    public long Retransmissions { get; internal set; }
    public long RnrNaksSent { get; internal set; }
    public long NaksSent { get; internal set; }
    public long AcksSent { get; internal set; }

    /// <summary>Why frames were dropped (malformed, bad ICRC, no QP, ...), for the inspector and tests.</summary>
    public Dictionary<string, long> DropReasons { get; } = new();

    /// <summary>From the wire (any thread): takes RoCEv2 frames addressed to this device's IP into the ring, copying once.</summary>
    public bool Take(ReadOnlySpan<byte> frame)
    {
        if (!LooksLikeOurs(frame)) return false;
        lock (_ringLock)
        {
            if (_ringCount == RingSlots || frame.Length > SlotBytes)
            {
                RxRingFull++;
                return true;
            }
            int slot = (_ringHead + _ringCount) % RingSlots;
            frame.CopyTo(_ring[slot]);
            _ringLength[slot] = frame.Length;
            _ringCount++;
        }
        return true;
    }

    /// <summary>IPv4 (optionally tagged) UDP to port 4791 at our address: the demultiplexing a kernel's UDP tunnel socket does.</summary>
    private bool LooksLikeOurs(ReadOnlySpan<byte> f)
    {
        int at = 14;
        if (f.Length < 14) return false;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(f[12..]);
        if (type == 0x8100 && f.Length >= 18)
        {
            type = BinaryPrimitives.ReadUInt16BigEndian(f[16..]);
            at = 18;
        }
        if (type != 0x0800 || f.Length < at + 28 || f[at + 9] != 17) return false;
        int udp = at + (f[at] & 0xF) * 4;
        return f.Length >= udp + 8 && BinaryPrimitives.ReadUInt16BigEndian(f[(udp + 2)..]) == RoceV2.UdpPort
            && BinaryPrimitives.ReadUInt32BigEndian(f[(at + 16)..]) == Ip;
    }

    internal bool Idle
    {
        get
        {
            lock (_ringLock)
                if (_ringCount > 0) return false;
            foreach (Qp q in _qps.Values)
                if (q.HasWork) return false;
            return true;
        }
    }

    /// <summary>One pass: every frame in the ring, then every QP's send work. True when anything moved.</summary>
    internal bool Run()
    {
        bool moved = false;
        while (true)
        {
            int length;
            lock (_ringLock)
            {
                if (_ringCount == 0) break;
                length = _ringLength[_ringHead];
                _ring[_ringHead].AsSpan(0, length).CopyTo(_work);
                _ringHead = (_ringHead + 1) % RingSlots;
                _ringCount--;
            }
            RxFrames++;
            Receive(_work.AsSpan(0, length));
            moved = true;
        }
        foreach (Qp q in _qps.Values) moved |= q.RunRequester();
        return moved;
    }

    internal long NextDeadline()
    {
        long next = long.MaxValue;
        foreach (Qp q in _qps.Values) next = Math.Min(next, q.NextDeadline);
        return next;
    }

    internal void FireTimers()
    {
        foreach (Qp q in _qps.Values) q.FireTimers(Fabric.NowNs);
    }

    internal void Drop(string reason)
    {
        RxDropped++;
        DropReasons[reason] = DropReasons.GetValueOrDefault(reason) + 1;
    }

    /// <summary>The receive path of reference §6.6: any failed check drops the frame silently (and counts it).</summary>
    private void Receive(ReadOnlySpan<byte> f)
    {
        if (RoceV2.Parse(f, out string? error) is not { } l)
        {
            Drop("malformed: " + error);
            return;
        }
        if (l.Ipv6 || BinaryPrimitives.ReadUInt32BigEndian(f[(l.L3 + 16)..]) != Ip)
        {
            Drop("not our address");
            return;
        }
        ReadOnlySpan<byte> bth = f[l.BthAt..];
        uint destQp = BinaryPrimitives.ReadUInt32BigEndian(bth[4..]) & 0xFFFFFF;
        if ((bth[1] & 0xF) != 0)
        {
            Drop("TVer not 0");
            return;
        }
        if (destQp == 0 || !_qps.TryGetValue(destQp, out Qp? qp))
        {
            Drop("no QP matches qpn");
            return;
        }
        if (l.Opcode > 0x1F)
        {
            Drop("opcode class is not RC");
            return;
        }
        bool response = l.Opcode == RoceV2.Acknowledge;
        if (response ? qp.State is not (RdmaQpState.RDMA_QPS_RTS or RdmaQpState.RDMA_QPS_SQD) : qp.State is not (RdmaQpState.RDMA_QPS_RTR or RdmaQpState.RDMA_QPS_RTS or RdmaQpState.RDMA_QPS_SQD))
        {
            Drop("QP not ready");
            return;
        }
        if (BinaryPrimitives.ReadUInt32BigEndian(f[(l.L3 + 12)..]) != qp.PeerIp)
        {
            Drop("source address is not the QP's peer");
            return;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(bth[2..]) != 0xFFFF)
        {
            Drop("P_Key is not 0xFFFF");
            return;
        }
        if (RoceV2.Icrc(f, l) != RoceV2.StoredIcrc(f, l))
        {
            Drop("bad ICRC");
            return;
        }
        uint psn = BinaryPrimitives.ReadUInt32BigEndian(bth[8..]) & 0xFFFFFF;
        if (response) qp.OnResponse(psn, f[l.ExtAt]);
        else qp.OnRequest(f, l, psn, (bth[8] & 0x80) != 0);
    }

    /// <summary>Builds a RoCEv2 frame in the transmit buffer and sends it: internally for our own address, else on the function's wire.</summary>
    internal void Send(Qp qp, byte opcode, uint psn, bool ackReq, ReadOnlySpan<byte> reth, ReadOnlySpan<byte> aeth, ReadOnlySpan<byte> payload)
    {
        RdmaDevice? peer = Fabric.ByIp(qp.PeerIp);
        Span<byte> f = _tx;
        (peer?.Mac ?? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).CopyTo(f);
        Mac.CopyTo(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], 0x0800);
        int pad = (4 - payload.Length % 4) % 4;
        int udpLength = RoceV2.UdpHeader + RoceV2.Bth + reth.Length + aeth.Length + payload.Length + pad + RoceV2.IcrcBytes;
        Span<byte> ip = f.Slice(14, 20);
        ip[0] = 0x45;
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + udpLength));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], _ipId++);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000);
        ip[8] = 64;
        ip[9] = 17;
        ip[10] = ip[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], Ip);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], qp.PeerIp);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip));
        BinaryPrimitives.WriteUInt16BigEndian(f[34..], qp.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(f[36..], RoceV2.UdpPort);
        BinaryPrimitives.WriteUInt16BigEndian(f[38..], (ushort)udpLength);
        BinaryPrimitives.WriteUInt16BigEndian(f[40..], 0);
        Span<byte> bth = f.Slice(RoceV2.BthAt, RoceV2.Bth);
        bth[0] = opcode;
        bth[1] = (byte)(pad << 4);
        BinaryPrimitives.WriteUInt16BigEndian(bth[2..], 0xFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(bth[4..], qp.DestQpn & 0xFFFFFF);
        BinaryPrimitives.WriteUInt32BigEndian(bth[8..], psn & 0xFFFFFF | (ackReq ? 0x80000000u : 0));
        int at = RoceV2.BthAt + RoceV2.Bth;
        reth.CopyTo(f[at..]);
        at += reth.Length;
        aeth.CopyTo(f[at..]);
        at += aeth.Length;
        payload.CopyTo(f[at..]);
        at += payload.Length;
        f.Slice(at, pad).Clear();
        at += pad;
        int end = at + RoceV2.IcrcBytes;
        int extAt = RoceV2.BthAt + RoceV2.Bth; // the layout of the frame just built: no need to parse it back
        var l = new RoceV2.Layout(RoceV2.EthHeader, false, RoceV2.EthHeader + RoceV2.Ipv4Header, udpLength, RoceV2.BthAt, opcode, extAt,
            extAt + reth.Length + aeth.Length, payload.Length, pad, at);
        BinaryPrimitives.WriteUInt32LittleEndian(f[at..], RoceV2.Icrc(f[..end], l));
        int length = Math.Max(end, 60);
        f[end..length].Clear();
        TxFrames++;
        if (qp.PeerIp == Ip) Take(f[..length]); // internal loopback: never reaches the wire
        else Function.TransmitRaw(f[..length]);
    }

    // ---- tables ----

    internal Mr? RegisterMr(RdmaContext owner, ulong addr, ulong length, int access)
    {
        if (_mrs.Count > MaxMr) return null;
        int index = _mrs.Count;
        uint key = (uint)index << 8 | (uint)Fabric.Random.Next(256);
        var mr = new Mr(index, key, owner, addr, length, access);
        _mrs.Add(mr);
        return mr;
    }

    /// <summary><c>lookup_mr</c> (§4.1): index live, full key equal, same PD, flags present, still valid; then the range.</summary>
    internal Mr? Lookup(uint key, RdmaContext pd, int needed, ulong va, ulong length)
    {
        uint index = key >> 8;
        if (index == 0 || index >= _mrs.Count || _mrs[(int)index] is not { } mr) return null;
        if (mr.Key != key || mr.Owner != pd || (mr.Access & needed) != needed || !mr.Valid) return null;
        if (va < mr.Addr || length > mr.Length || va - mr.Addr > mr.Length - length) return null;
        return mr;
    }

    internal uint HighestMrIndex => (uint)(_mrs.Count - 1);

    /// <summary>The engine's DMA at [<paramref name="va"/>, +<paramref name="length"/>) through <paramref name="mr"/>: the bytes if
    /// the MR is still registered and covers the range, the function's IOMMU domain reaches them and the MR's protection
    /// domain (its script's DMA owner) still owns (or, reading, borrows) them; otherwise an error and nothing touched.</summary>
    /// <remarks>Design: one function serves every script on its host that opened RDMA, so its domain holds all their owners;
    /// an MR is a range of IOVA checked at registration, and the memory under it may be freed, given away or lent out and
    /// revoked after that — and its IOVA handed to another script on the same function, which the domain alone would let
    /// through. So every access is checked twice, as an IOMMU and an MTT would: the domain, then the MR's owner. Either miss
    /// is a DMA fault, counted by the domain and reported under the MR's script only (the others attached to the function
    /// did not program it). The requester, the responder's receive and its RDMA WRITE target all come here.</remarks>
    internal DmaError TryDma(Mr mr, ulong va, int length, bool write, out Span<byte> span)
    {
        span = default;
        if (!mr.Valid) return DmaError.Freed; // deregistered: a protection error of the caller's, not a DMA
        if (length < 0 || va < mr.Addr || va - mr.Addr > mr.Length || (ulong)length > mr.Length - (va - mr.Addr)) return DmaError.OutOfBounds;
        IommuDomain dma = Domain;
        DmaOwner pd = mr.Owner.DmaOwner;
        DmaError e = Fabric.Memory.TryLocate(va, length, out DmaRegion region, out int offset);
        if (e == DmaError.None) e = dma.Check(region, write);
        if (e == DmaError.None && region.CheckAccess(pd, write) != DmaError.None) e = DmaError.IommuFault; // another script's memory now
        if (e != DmaError.None) return dma.Fault(va, length, write, e, pd);
        return dma.TryGetSpan(region, offset, length, write, out span);
    }

    internal Qp? CreateQp(RdmaContext owner, int sendSize, int recvSize)
    {
        if (_qps.Count >= MaxQp) return null;
        uint qpn = _nextQpn++;
        var qp = new Qp(this, owner, qpn, sendSize, recvSize);
        _qps[qpn] = qp;
        return qp;
    }

    internal void DestroyQp(Qp qp) => _qps.Remove(qp.Qpn);

    internal Qp? QpByNumber(uint qpn) => _qps.GetValueOrDefault(qpn);
}

/// <summary>A memory region: keys, PD (the owning script), range and access; invalid once deregistered.</summary>
internal sealed class Mr(int index, uint key, RdmaContext owner, ulong addr, ulong length, int access)
{
    public int Index { get; } = index;
    public uint Key { get; } = key;
    public RdmaContext Owner { get; } = owner;
    public ulong Addr { get; } = addr;
    public ulong Length { get; } = length;
    public int Access { get; } = access;
    public bool Valid { get; set; } = true;
}
