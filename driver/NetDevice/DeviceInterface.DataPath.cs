using System.Buffers.Binary;
using NicScript.Driver.Memory;
using static NicScript.Driver.NetDevice.BufferDescriptor;

namespace NicScript.Driver.NetDevice;

internal sealed partial class DeviceInterface
{
    private readonly ushort[] _targets = new ushort[NetConstants.MAX_DESCRIPTOR_CHAIN];
    private readonly long[] _srcStart = new long[NetConstants.MAX_BUFFER_PARTS];
    private readonly int[] _srcLength = new int[NetConstants.MAX_BUFFER_PARTS];

    /// <summary>Serves every FIFO until nothing moves (caller holds the lock). Re-entrant calls just ask for another round.</summary>
    internal void Pump()
    {
        if (_pumping)
        {
            _pumpAgain = true;
            return;
        }
        _pumping = true;
        try
        {
            bool progress;
            do
            {
                _pumpAgain = false;
                progress = false;
                if (Nic.Started)
                {
                    for (int i = 0; i < _sessions.Count; i++) progress |= TakeTx(_sessions[i]);
                    if (_primary is { Running: true } p) progress |= LoadRx(p);
                }
                progress |= Nic.FlushUplink();
                progress |= Nic.ServiceUplink();
            }
            while (progress || _pumpAgain);
        }
        finally
        {
            _pumping = false;
        }
    }

    // ---- transmit (reference §4.2) ----

    private bool TakeTx(Session s)
    {
        if (!s.Running) return false;
        Fifo tx = s.Fifos.Tx;
        bool any = false;
        while (tx.ToDevice.Count > 0 && Nic.TxRoom > 0 && s.TxInFlight + tx.ToClient.Count < tx.ToClient.Capacity && !s.Closing)
        {
            FetchTx(s, tx.ToDevice.PopFront());
            any = true;
        }
        return any;
    }

    private void FetchTx(Session s, ushort index)
    {
        int count = s.DescriptorCount;
        if (index >= count || !s.Reachable) // an index past the table, or regions that left the client: the session's error
        {
            Kill(s);
            return;
        }
        Span<byte> d = s.Descriptor(index);
        byte port = d[PortIdAt];
        if (port >= NetConstants.MAX_PORTS)
        {
            Kill(s);
            return;
        }
        if (!s.Attached[port])
        {
            ReturnTx(s, index, TxReturnFlags.TX_RET_ERROR | TxReturnFlags.TX_RET_NOT_AVAILABLE);
            return;
        }
        TxFrame f = Nic.RentTxFrame();
        int chain = d[ChainLengthAt];
        if (chain >= NetConstants.MAX_DESCRIPTOR_CHAIN)
        {
            Nic.ReturnTxFrame(f);
            Kill(s);
            return;
        }
        f.Parts = chain + 1;
        f.Index[0] = index;
        ushort current = index;
        for (int k = 1; k <= chain; k++)
        {
            ushort next = BinaryPrimitives.ReadUInt16LittleEndian(s.Descriptor(current)[NxtAt..]);
            if (next >= count || s.Descriptor(next)[ChainLengthAt] != chain - k)
            {
                Nic.ReturnTxFrame(f);
                Kill(s);
                return;
            }
            f.Index[k] = current = next;
        }
        Span<byte> last = s.Descriptor(f.Index[chain]);
        ushort head = BinaryPrimitives.ReadUInt16LittleEndian(d[HeadLengthAt..]);
        if (head < Config.MinTxBufferHead || BinaryPrimitives.ReadUInt16LittleEndian(last[TailLengthAt..]) < Config.MinTxBufferTail)
        {
            Nic.ReturnTxFrame(f);
            Kill(s);
            return;
        }
        long total = 0;
        for (int k = 0; k < f.Parts; k++)
        {
            Span<byte> part = s.Descriptor(f.Index[k]);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(part[OffsetAt..]);
            uint h = BinaryPrimitives.ReadUInt16LittleEndian(part[HeadLengthAt..]), t = BinaryPrimitives.ReadUInt16LittleEndian(part[TailLengthAt..]);
            uint data = BinaryPrimitives.ReadUInt32LittleEndian(part[DataLengthAt..]);
            bool duplicate = false;
            for (int j = 0; j < k; j++) duplicate |= f.Index[j] == f.Index[k];
            if (!InData(s, offset, h, data, t) || s.Held[f.Index[k]] != Session.Free || duplicate)
            {
                total = -1;
                break;
            }
            f.Offset[k] = (long)(offset + h);
            f.Length[k] = (int)data;
            total += data;
        }
        if (total < 0 || total < Config.MinTxBufferLength)
        {
            Nic.ReturnTxFrame(f);
            Kill(s);
            return;
        }
        var type = (FrameType)d[FrameTypeAt];
        DevicePort p = _ports[port]!;
        if (p.SupportedTxFlags(type) is null)
        {
            Nic.ReturnTxFrame(f);
            ReturnTx(s, index, TxReturnFlags.TX_RET_ERROR | TxReturnFlags.TX_RET_NOT_SUPPORTED);
            return;
        }
        f.Session = s;
        f.Id = s.BufferId(index);
        f.Port = port;
        f.Type = type;
        f.Flags = BinaryPrimitives.ReadUInt32LittleEndian(d[InboundFlagsAt..]);
        f.Total = (int)total;
        f.HeadLength = Config.MinTxBufferHead;
        f.TailLength = Config.MinTxBufferTail;
        for (int k = 0; k < f.Parts; k++) s.Held[f.Index[k]] = Session.TxHeld;
        s.TxInFlight++;
        Echo(f);
        Nic.QueueTx(f);
    }

    private void Kill(Session s) => CloseSession(s, ZxStatus.ZX_ERR_IO_INVALID);

    /// <summary>Whether a buffer's [offset, +head+data+tail) lies inside the session's data region.</summary>
    /// <remarks>Design: the client writes all four fields (offset is 64 bits), so their sum may wrap 2^64 past a plain
    /// <c>offset + length &gt; size</c> check into a small number; the offset is compared first and the lengths (each at
    /// most 32 bits, their sum never wrapping in 64) against what is left of the region.</remarks>
    internal static bool InData(Session s, ulong offset, uint head, uint data, uint tail)
    {
        ulong size = (ulong)s.Data.Length;
        return offset <= size && (ulong)head + data + tail <= size - offset;
    }

    private static void ReturnTx(Session s, ushort index, TxReturnFlags flags)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(s.Descriptor(index)[ReturnFlagsAt..], (uint)flags);
        s.Fifos.Tx.PushToClient(index);
    }

    /// <summary>The NIC finished frame <paramref name="f"/> with <paramref name="status"/>: its index goes back with the return flags.</summary>
    internal void CompleteTx(TxFrame f, ZxStatus status)
    {
        Session s = f.Session!;
        TxReturnFlags flags = status switch
        {
            ZxStatus.ZX_OK => 0,
            ZxStatus.ZX_ERR_NOT_SUPPORTED => TxReturnFlags.TX_RET_ERROR | TxReturnFlags.TX_RET_NOT_SUPPORTED,
            ZxStatus.ZX_ERR_NO_RESOURCES => TxReturnFlags.TX_RET_ERROR | TxReturnFlags.TX_RET_OUT_OF_RESOURCES,
            ZxStatus.ZX_ERR_UNAVAILABLE => TxReturnFlags.TX_RET_ERROR | TxReturnFlags.TX_RET_NOT_AVAILABLE,
            _ => TxReturnFlags.TX_RET_ERROR,
        };
        for (int k = 0; k < f.Parts; k++) s.Held[f.Index[k]] = Session.Free;
        s.TxInFlight--;
        if (s.Reachable) ReturnTx(s, f.Index[0], flags);
        Nic.ReturnTxFrame(f);
        MaybeFinishClose(s);
        _pumpAgain = true;
    }

    /// <summary>LISTEN_TX: a copy of an accepted frame for every listening session attached to its port, the sender included (D-5).</summary>
    private void Echo(TxFrame f)
    {
        for (int i = 0; i < _sessions.Count; i++)
        {
            Session l = _sessions[i];
            if ((l.Flags & SessionFlags.LISTEN_TX) == 0 || !l.Running || !l.Attached[f.Port]) continue;
            CopyInto(l, f.Session!, f.Offset, f.Length, f.Parts, f.Total, f.Port, f.Type, (uint)RxFlags.RX_ECHOED_TX);
        }
    }

    // ---- receive (reference §4.3) ----

    /// <summary>Gives the running primary's buffers to the NIC up to its hardware depth.</summary>
    private bool LoadRx(Session p)
    {
        bool any = false;
        while (Nic.RxHeldCount < Config.RxDepth && !p.Closing)
        {
            ushort index;
            if (p.Ready.Count > 0) index = p.Ready.PopFront();
            else if (!TakeRxEntry(p, out index)) break;
            p.Held[index] = Session.RxAtNic;
            p.RxAtNicCount++;
            Nic.AddRxSpace(p, index);
            any = true;
        }
        return any;
    }

    /// <summary>Takes and checks one rx FIFO entry; a bad one closes the session. False when there is none (or no room to return it).</summary>
    private bool TakeRxEntry(Session s, out ushort index)
    {
        index = 0;
        Fifo rx = s.Fifos.Rx;
        if (rx.ToDevice.Count == 0 || s.RxHeld + rx.ToClient.Count >= rx.ToClient.Capacity || s.Closing) return false;
        index = rx.ToDevice.PopFront();
        if (index >= s.DescriptorCount || !s.Reachable)
        {
            Kill(s);
            return false;
        }
        Span<byte> d = s.Descriptor(index);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(d[OffsetAt..]);
        ushort head = BinaryPrimitives.ReadUInt16LittleEndian(d[HeadLengthAt..]), tail = BinaryPrimitives.ReadUInt16LittleEndian(d[TailLengthAt..]);
        uint data = BinaryPrimitives.ReadUInt32LittleEndian(d[DataLengthAt..]);
        if (d[ChainLengthAt] != 0 || data < Config.MinRxBufferLength || !InData(s, offset, head, data, tail) || s.Held[index] != Session.Free)
        {
            Kill(s);
            return false;
        }
        s.PostStart[index] = (long)(offset + head);
        s.PostHead[index] = head;
        s.PostRoom[index] = data + tail;
        s.Held[index] = Session.RxReady;
        return true;
    }

    /// <summary>
    /// The NIC filled (or, with total 0, gave back unfilled) <paramref name="indices"/> of <paramref name="owner"/>: copies go to every
    /// other session that wants the frame, the owner gets it in place if it wants it too, else its buffers are recycled.
    /// </summary>
    internal void CompleteRx(Session owner, ReadOnlySpan<ushort> indices, ReadOnlySpan<int> lengths, byte port, FrameType type, uint flags)
    {
        int total = 0;
        for (int k = 0; k < indices.Length; k++)
        {
            owner.RxAtNicCount--;
            owner.Held[indices[k]] = Session.RxReady;
            total += lengths[k];
        }
        _pumpAgain = true;
        if (total == 0)
        {
            Recycle(owner, indices);
            return;
        }
        bool invalid = (flags & (uint)RxFlags.RX_VALIDATION_ERROR) != 0;
        for (int k = 0; k < indices.Length; k++)
        {
            _srcStart[k] = owner.PostStart[indices[k]];
            _srcLength[k] = lengths[k];
        }
        for (int i = 0; i < _sessions.Count; i++)
        {
            Session s = _sessions[i];
            if (s != owner && Wants(s, port, type, invalid))
                CopyInto(s, owner, _srcStart, _srcLength, indices.Length, total, port, type, flags);
        }
        if (Wants(owner, port, type, invalid) && owner.Reachable)
        {
            for (int k = 0; k < indices.Length; k++) _targets[k] = indices[k];
            Deliver(owner, _targets.AsSpan(0, indices.Length), lengths, port, type, flags);
        }
        else Recycle(owner, indices);
    }

    private static bool Wants(Session s, byte port, FrameType type, bool invalid) =>
        s.Running && s.Attached[port] && Array.IndexOf(s.RxFrames[port], type) >= 0 && (!invalid || (s.Flags & SessionFlags.REPORT_INVALID_RX) != 0);

    /// <summary>Buffers that carried nothing for their owner: back to its pool (the NIC gets them again if it is primary), or released if it is closing.</summary>
    private void Recycle(Session owner, ReadOnlySpan<ushort> indices)
    {
        foreach (ushort i in indices)
        {
            if (owner.Closing) owner.Held[i] = Session.Free;
            else owner.Ready.TryPushBack(i);
        }
        MaybeFinishClose(owner);
    }

    /// <summary>Copies a frame (parts of <paramref name="source"/>) into <paramref name="s"/>'s own buffers, chaining up to 4; false (dropped for it) when it has too little room.</summary>
    private bool CopyInto(Session s, Session source, ReadOnlySpan<long> starts, ReadOnlySpan<int> lengths, int parts, int total, byte port, FrameType type, uint flags)
    {
        Span<int> fill = stackalloc int[NetConstants.MAX_DESCRIPTOR_CHAIN];
        int n = 0;
        long room = 0;
        while (room < total && n < NetConstants.MAX_DESCRIPTOR_CHAIN)
        {
            ushort index;
            if (s.Ready.Count > 0) index = s.Ready.PopFront();
            else if (TakeRxEntry(s, out index)) { }
            else if (s == _primary && Nic.ReclaimNewest(s, out index)) { }
            else break;
            _targets[n++] = index;
            room += s.PostRoom[index];
        }
        Span<byte> src = source.DataSpan, dst = s.DataSpan; // empty once a region left its session's client
        if (s.Closing || room < total || src.IsEmpty || dst.IsEmpty)
        {
            for (int k = n - 1; k >= 0; k--)
            {
                if (s.Closing) s.Held[_targets[k]] = Session.Free;
                else s.Ready.TryPushFront(_targets[k]);
            }
            return false;
        }
        int part = 0, partDone = 0;
        for (int k = 0; k < n; k++)
        {
            ushort index = _targets[k];
            int want = (int)Math.Min(s.PostRoom[index], total - SumTo(fill, k));
            int written = 0;
            while (written < want)
            {
                int chunk = Math.Min(want - written, lengths[part] - partDone);
                src.Slice((int)(starts[part] + partDone), chunk).CopyTo(dst.Slice((int)(s.PostStart[index] + written), chunk));
                written += chunk;
                partDone += chunk;
                if (partDone == lengths[part] && part < parts - 1)
                {
                    part++;
                    partDone = 0;
                }
            }
            fill[k] = written;
            if (SumTo(fill, k + 1) == total)
            {
                n = k + 1; // a chain uses only as many buffers as the frame needs; unused ones stay ready
                break;
            }
        }
        Deliver(s, _targets.AsSpan(0, n), fill[..n], port, type, flags);
        return true;

        static int SumTo(Span<int> f, int k)
        {
            int sum = 0;
            for (int i = 0; i < k; i++) sum += f[i];
            return sum;
        }
    }

    /// <summary>Writes the rx descriptors of a filled chain (§1.2) and returns its first index on the rx FIFO.</summary>
    private void Deliver(Session s, ReadOnlySpan<ushort> chain, ReadOnlySpan<int> lengths, byte port, FrameType type, uint flags)
    {
        for (int k = 0; k < chain.Length; k++)
        {
            ushort index = chain[k];
            Span<byte> d = s.Descriptor(index);
            if (k == 0)
            {
                d[FrameTypeAt] = (byte)type;
                d[PortIdAt] = port;
                BinaryPrimitives.WriteUInt32LittleEndian(d[InfoTypeAt..], (uint)InfoType.NO_INFO);
                BinaryPrimitives.WriteUInt32LittleEndian(d[InboundFlagsAt..], flags);
            }
            d[ChainLengthAt] = (byte)(chain.Length - 1 - k);
            BinaryPrimitives.WriteUInt16LittleEndian(d[NxtAt..], k + 1 < chain.Length ? chain[k + 1] : NetConstants.NoNext);
            BinaryPrimitives.WriteUInt16LittleEndian(d[HeadLengthAt..], s.PostHead[index]);
            BinaryPrimitives.WriteUInt32LittleEndian(d[DataLengthAt..], (uint)lengths[k]);
            BinaryPrimitives.WriteUInt16LittleEndian(d[TailLengthAt..], (ushort)(s.PostRoom[index] - (uint)lengths[k]));
            s.Held[index] = Session.Free;
        }
        s.Fifos.Rx.PushToClient(chain[0]);
    }
}
