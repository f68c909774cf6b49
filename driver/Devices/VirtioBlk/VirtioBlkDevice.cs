using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Devices.VirtioBlk;

/// <summary>What a virtio-blk device counted.</summary>
public sealed class VirtioBlkStats : VirtioTransportStats
{
    internal long Reads, Writes, Flushes, ReadBytes, WrittenBytes, IoErrors, Unsupported, Malformed;

    public long ReadsCount => Volatile.Read(ref Reads);
    public long WritesCount => Volatile.Read(ref Writes);
    public long FlushesCount => Volatile.Read(ref Flushes);
    public long ReadBytesCount => Volatile.Read(ref ReadBytes);
    public long WrittenBytesCount => Volatile.Read(ref WrittenBytes);
    /// <summary>Requests completed with IOERR (out of range, not whole sectors, a failing backing file).</summary>
    public long IoErrorsCount => Volatile.Read(ref IoErrors);
    public long UnsupportedCount => Volatile.Read(ref Unsupported);
    /// <summary>Chains with no writable status byte: completed with length 0, nothing done.</summary>
    public long MalformedCount => Volatile.Read(ref Malformed);
}

/// <summary>A virtio-blk device (virtio 1.x §5.2, PCI 1af4:1042) over a sparse backing file.</summary>
/// <remarks>
/// Design: the transport is <see cref="VirtioPciDevice"/>'s. A doorbell serves the notified queue inline on the notifying
/// thread (as the net device's TX does): each chain is one request — a 16-byte header the device reads, data, and a
/// status byte it writes — read from or written to the file straight out of the driver's DMA buffers, with no copy in
/// between. Fail closed: a request outside the capacity, not whole sectors, with data on the wrong side, or a failing
/// file completes with IOERR; an unknown type with UNSUPP; a chain with no writable byte for the status completes with
/// length 0 and is counted. A paused device takes no new chains (they wait in the rings) and serves them on resume.
/// FLUSH is an fsync of the backing file, so data the host flushed survives a kill of the process.
/// </remarks>
public sealed class VirtioBlkDevice : VirtioPciDevice, IDisposable
{
    private readonly object _ioLock = new();
    private readonly DescriptorChain _chain;
    private readonly byte[] _serial = new byte[VirtioBlk.IdBytes];
    private readonly FileStream _file;
    private SplitVirtqueue?[]? _live;
    private ulong _capacity;
    private bool _paused, _disposed;

    /// <param name="backingFile">The disk's file; <paramref name="create"/> makes it anew (empty), otherwise an existing one is kept.</param>
    public VirtioBlkDevice(PciAddress address, IommuDomain dma, IrqLine intx, string name, string backingFile, bool create,
        ulong capacitySectors = 0, int numQueues = 1, ushort queueDepth = 128, int msixVectors = 2, IDeviceEvents? events = null)
        : this(address, dma, intx, name, backingFile, create, capacitySectors, numQueues, queueDepth, msixVectors, events, new VirtioBlkStats())
    {
    }

    private VirtioBlkDevice(PciAddress address, IommuDomain dma, IrqLine intx, string name, string backingFile, bool create,
        ulong capacitySectors, int numQueues, ushort queueDepth, int msixVectors, IDeviceEvents? events, VirtioBlkStats stats)
        : base("virtio-blk", address, dma, intx, events, VirtioBlk.ModernDeviceId, VirtioBlk.ClassCode, VirtioBlk.SubsystemBlk,
            "Red Hat, Inc. Virtio 1.0 block device", numQueues, queueDepth, msixVectors, VirtioBlk.ConfigLength, Features(numQueues), stats)
    {
        Name = name;
        Stats = stats;
        _chain = new DescriptorChain(queueDepth);
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, VirtioBlk.IdBytes)), _serial);
        _file = new FileStream(backingFile, create ? FileMode.Create : FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        BackingFile = backingFile;
        _capacity = capacitySectors;
        if (_file.Length < (long)(capacitySectors * VirtioBlk.SectorSize)) _file.SetLength((long)(capacitySectors * VirtioBlk.SectorSize)); // sparse: no blocks until written
    }

    private static ulong Features(int numQueues) => 1UL << VirtioPci.FeatureVersion1 | 1UL << VirtioBlk.FeatureFlush |
        (numQueues > 1 ? 1UL << VirtioBlk.FeatureMq : 0);

    /// <summary>The disk's full name; its first 20 bytes are the serial GET_ID answers.</summary>
    public string Name { get; }

    public string BackingFile { get; }

    public VirtioBlkStats Stats { get; }

    /// <summary>Capacity in 512-byte sectors, as the config space says.</summary>
    public ulong Capacity
    {
        get
        {
            lock (RegLock) return _capacity;
        }
    }

    public bool Paused
    {
        get
        {
            lock (_ioLock) return _paused;
        }
    }

    /// <summary>Idle, running, paused or in error, from the status register and the pause flag (paused wins).</summary>
    public VirtioBlkState State
    {
        get
        {
            if (Paused) return VirtioBlkState.Paused;
            byte s = Status;
            if ((s & (VirtioPci.StatusDeviceNeedsReset | VirtioPci.StatusFailed)) != 0) return VirtioBlkState.Error;
            return (s & VirtioPci.StatusDriverOk) != 0 ? VirtioBlkState.Running : VirtioBlkState.Idle;
        }
    }

    /// <summary>Grows the disk: the file grows (new sectors read as zeros), the config's capacity changes and the config-change
    /// interrupt tells the driver. False when the size is already this one. Never shrinks.</summary>
    public bool Resize(ulong sectors)
    {
        lock (RegLock)
        lock (_ioLock)
        {
            if (sectors == _capacity) return false;
            if (sectors < _capacity) throw new ArgumentException($"a disk does not shrink ({_capacity} → {sectors} sectors)", nameof(sectors));
            ObjectDisposedException.ThrowIf(_disposed, this);
            _file.SetLength((long)(sectors * VirtioBlk.SectorSize));
            _capacity = sectors;
            ConfigChanged();
            return true;
        }
    }

    /// <summary>Pause (true): no new request is taken; the one being served finishes. Resume (false): the requests that waited
    /// are served now. False when that state was already in force.</summary>
    public bool Pause(bool pause)
    {
        lock (_ioLock)
        {
            if (_paused == pause) return false;
            _paused = pause;
            if (!pause && _live is { } live)
                for (int q = 0; q < live.Length; q++)
                    if (live[q] is { } vq) Serve(q, vq);
            return true;
        }
    }

    protected override void ReadDeviceConfig(Span<byte> config)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(config[VirtioBlk.ConfigCapacity..], _capacity);
        BinaryPrimitives.WriteUInt16LittleEndian(config[VirtioBlk.ConfigNumQueues..], (ushort)QueueCount);
    }

    protected override void InstallQueues(SplitVirtqueue?[]? queues)
    {
        lock (_ioLock) _live = queues;
    }

    protected override void OnNotify(int queue)
    {
        lock (_ioLock)
        {
            if (_paused || _disposed || _live is not { } live || queue >= live.Length || live[queue] is not { } vq) return;
            Serve(queue, vq);
        }
    }

    /// <summary>Serves every chain waiting in one queue, then publishes the used ring once and interrupts.</summary>
    private void Serve(int queue, SplitVirtqueue vq)
    {
        int done = 0;
        while (true)
        {
            VirtqFault f = vq.TryPop(_chain, out bool popped);
            if (f == VirtqFault.DescriptorOutsideDma && _chain.Faulted && Complete(_chain, VirtioBlk.StatusIoErr))
            {
                // A buffer outside the function's domain (the DMA fault is counted): the request fails with IOERR, as its
                // status byte is reachable; nothing is read or written. One whose status is not reachable resets below.
                Stats.IoErrors++;
                vq.PushUsed(vq.DiscardNext(), 1);
                done++;
                continue;
            }
            if (f != VirtqFault.None)
            {
                NeedsResetLocked("request_queue", $"queue {queue}: {f} at avail slot {vq.NextAvail}");
                return;
            }
            if (!popped) break;
            vq.PushUsed(_chain.Head, Execute(_chain));
            done++;
        }
        if (done > 0 && vq.PublishUsed()) RaiseQueueInterrupt(queue);
    }

    /// <summary>One request; returns the bytes written into the chain's device-writable part (data and status).</summary>
    private uint Execute(DescriptorChain c)
    {
        int writable = c.WritableBytes;
        if (writable < 1)
        {
            Stats.Malformed++;
            return 0;
        }
        Span<byte> header = stackalloc byte[VirtioBlk.HeaderSize];
        if (c.ReadableBytes < VirtioBlk.HeaderSize || !Gather(c, header)) return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(header);
        ulong sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        int dataOut = c.ReadableBytes - VirtioBlk.HeaderSize, dataIn = writable - 1;
        switch (type)
        {
            case VirtioBlk.TypeIn:
                if (dataOut != 0 || !InRange(sector, dataIn)) return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
                if (!Transfer(c, sector, write: false)) return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
                Stats.Reads++;
                Stats.ReadBytes += dataIn;
                return Complete(c, VirtioBlk.StatusOk, dataIn);
            case VirtioBlk.TypeOut:
                if (dataIn != 0 || !InRange(sector, dataOut)) return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
                if (!Transfer(c, sector, write: true)) return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
                Stats.Writes++;
                Stats.WrittenBytes += dataOut;
                return Complete(c, VirtioBlk.StatusOk, 0);
            case VirtioBlk.TypeFlush:
                if (dataOut != 0 || dataIn != 0) return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
                try
                {
                    _file.Flush(flushToDisk: true);
                }
                catch (IOException)
                {
                    return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
                }
                Stats.Flushes++;
                return Complete(c, VirtioBlk.StatusOk, 0);
            case VirtioBlk.TypeGetId:
                if (dataOut != 0 || dataIn < VirtioBlk.IdBytes) return Complete(c, VirtioBlk.StatusIoErr, 0, ref Stats.IoErrors);
                Scatter(c, _serial);
                return Complete(c, VirtioBlk.StatusOk, VirtioBlk.IdBytes);
            default:
                return Complete(c, VirtioBlk.StatusUnsupp, 0, ref Stats.Unsupported);
        }
    }

    private bool InRange(ulong sector, int bytes) =>
        bytes % VirtioBlk.SectorSize == 0 && sector <= _capacity && (ulong)(bytes / VirtioBlk.SectorSize) <= _capacity - sector;

    private static uint Complete(DescriptorChain c, byte status, int data, ref long counter)
    {
        counter++;
        return Complete(c, status, data);
    }

    /// <summary>Writes the status into the chain's last writable byte.</summary>
    private static uint Complete(DescriptorChain c, byte status, int data)
    {
        Complete(c, status);
        return (uint)data + 1;
    }

    /// <summary>Writes the status into the chain's last writable byte; false when that byte is outside the domain (or absent).</summary>
    private static bool Complete(DescriptorChain c, byte status)
    {
        for (int i = c.Count - 1; i >= 0; i--)
        {
            if (!c.IsWritable(i) || c.Length(i) == 0) continue;
            Span<byte> seg = c.Segment(i);
            if (seg.Length == 0) return false;
            seg[^1] = status;
            return true;
        }
        return false;
    }

    /// <summary>The first bytes of the readable part (the header); false when one of its segments left the domain since the pop.</summary>
    private static bool Gather(DescriptorChain c, Span<byte> into)
    {
        int at = 0;
        for (int i = 0; i < c.Count && at < into.Length && !c.IsWritable(i); i++)
        {
            Span<byte> seg = c.Segment(i);
            if (seg.Length != c.Length(i)) return false;
            int n = Math.Min(seg.Length, into.Length - at);
            seg[..n].CopyTo(into[at..]);
            at += n;
        }
        return at == into.Length;
    }

    /// <summary>The first bytes of the writable part (GET_ID's answer).</summary>
    private static void Scatter(DescriptorChain c, ReadOnlySpan<byte> from)
    {
        for (int i = 0; i < c.Count && from.Length > 0; i++)
        {
            if (!c.IsWritable(i)) continue;
            Span<byte> seg = c.Segment(i);
            int n = Math.Min(seg.Length, from.Length);
            from[..n].CopyTo(seg);
            from = from[n..];
        }
    }

    /// <summary>Moves the data part between the driver's buffers and the file, segment by segment, without a bounce buffer.</summary>
    private bool Transfer(DescriptorChain c, ulong sector, bool write)
    {
        long offset = (long)(sector * VirtioBlk.SectorSize);
        int skip = write ? VirtioBlk.HeaderSize : 0, left = write ? c.ReadableBytes - VirtioBlk.HeaderSize : c.WritableBytes - 1;
        SafeFileHandle handle = _file.SafeFileHandle;
        try
        {
            for (int i = 0; i < c.Count && left > 0; i++)
            {
                if (c.IsWritable(i) == write) continue;
                Span<byte> seg = c.Segment(i);
                if (seg.Length != c.Length(i)) return false; // its region left the domain since the pop (a DMA fault): IOERR
                if (skip >= seg.Length)
                {
                    skip -= seg.Length;
                    continue;
                }
                Span<byte> part = seg[skip..][..Math.Min(seg.Length - skip, left)];
                skip = 0;
                if (write) RandomAccess.Write(handle, part, offset);
                else
                {
                    int got = RandomAccess.Read(handle, part, offset);
                    part[got..].Clear(); // beyond the file's end (never written): zeros
                }
                offset += part.Length;
                left -= part.Length;
            }
            return left == 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Hot-removal: no request is served after this; the file is closed (the caller deletes it if the disk is gone).</summary>
    public void Dispose()
    {
        lock (_ioLock)
        {
            if (_disposed) return;
            _disposed = true;
            _live = null;
            _file.Dispose();
        }
    }
}
