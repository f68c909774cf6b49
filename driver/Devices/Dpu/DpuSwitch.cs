using NicScript.Driver.Time;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Dpu;

/// <summary>The bond over the optical ports as the switch runs it (reference/dpu.md §5.7); delays already rounded to miimon.</summary>
/// <param name="Mode">0 balance-rr, 1 active-backup, 2 balance-xor, 3 broadcast.</param>
/// <param name="Primary">A member id, or −1.</param>
/// <param name="Reselect">0 always, 1 better, 2 failure.</param>
public sealed record DpuBond(bool Enabled, int Mode, int[] Members, int MiimonMs, int UpdelayMs, int DowndelayMs, int HashPolicy, int Primary,
    int Reselect, bool AllSlavesActive)
{
    public static readonly DpuBond Off = new(false, 0, [], 100, 0, 0, 0, -1, 0, false);
}

/// <summary>
/// The switch inside the DPU (reference/dpu.md §5.3): every frame from an optical port's wire, a host elastic NIC's
/// transmit queue or a SoC port goes through ingress checks, the classifier, the rule's meter, the target (or default
/// forwarding), the SoC redirect and delivery, with the §5.4 counters kept so their invariants hold.
/// </summary>
/// <remarks>
/// Design: bursts, and no switch lock on a cable's ingress. A wire's burst (<see cref="FrameBatch"/>) goes through in
/// phases: every frame parsed and looked up (tuple-space search, <see cref="DpuClassifier"/>), then rule hits and meters
/// (a meter's own lock once per run of its frames, one clock read per burst), then targets; a vport's frames leave as one
/// burst into its function (one RX lock, one ring publish). A burst from an optical port's cable takes no switch lock:
/// its input counters are added once per burst atomically, rule hits and vports' rx counters are atomic, meters lock
/// themselves, the working state is per thread (<see cref="Burst"/>); so two cables feeding two vports run on two cores,
/// and this outside end stays lock-free for what will be added there (encapsulation). The switch's one lock covers what
/// is shared and rare: a vport's or SoC port's bursts (an elastic NIC's TX doorbell is served here,
/// <see cref="IElasticNic.TxDoorbell"/>, so the switch locks first and then pulls the NIC's ring, which makes
/// NIC → switch → NIC deliveries deadlock-free), every transmit to a SoC or optical port (their far ends may answer at
/// once, re-entering on the same thread), and a cable's burst while the bond is on (the MII monitor's state). Lock order:
/// switch → NIC TX → meter or NIC RX; a meter's lock is held while nothing else is taken. The classifier, meters and
/// redirects are read from an immutable <see cref="Tables"/> snapshot the agent swaps in after each change
/// (<see cref="Program"/>), one per burst, so a frame classified after a reply sees the change and nothing sees half of
/// one. Per frame: one parse into a struct, a lookup of the rules, and the copy into the receiver's buffer; nothing is allocated.
/// </remarks>
public sealed partial class DpuSwitch
{
    public const int SocBase = 0x10000, OpticalBase = 0x20000, Drop = -1;
    private const int Skip = -2; // a frame of the burst that goes no further (an ingress error, a standby bond member)

    private readonly object _sync = new();
    private readonly IClock _clock;
    private readonly HostPort?[] _hosts;
    private readonly SocPort[] _socs;
    private readonly OpticalPort[] _optical;
    private readonly Dictionary<uint, DpuMeter> _meters = new();
    private Tables _tables;
    private int _rrNext;
    private long _bondEpochNs;

    private sealed class Tables(DpuRule[] rules, DpuMeter?[] ruleMeters, int[] redirect, uint[] opticalMtu, DpuBond bond)
    {
        public readonly DpuRule[] Rules = rules;
        public readonly DpuClassifier Classifier = new(rules);
        public readonly DpuMeter?[] RuleMeters = ruleMeters;
        public readonly int[] Redirect = redirect;
        public readonly uint[] OpticalMtu = opticalMtu;
        public readonly DpuBond Bond = bond;
    }

    private sealed class HostPort(uint vport, IElasticNic nic, Link wire, WirePort switchSide)
    {
        public readonly uint Vport = vport;
        public readonly IElasticNic Nic = nic;
        public readonly Link Wire = wire;
        public readonly WirePort SwitchSide = switchSide;
        public readonly DpuPortCounters Counters = new();
        public ulong Mac = MacAddress.ToUInt64(nic.Model.Mac);
        public uint Mtu = nic.Model.Mtu; // the function's, copied: read per frame without a call (HostMacChanged refreshes it)
    }

    private sealed class SocPort(Link wire)
    {
        public readonly Link Wire = wire;
        public WirePort? Port;
        public readonly DpuPortCounters Counters = new();
    }

    private sealed class OpticalPort(Link wire, int queues)
    {
        public readonly Link Wire = wire;
        public WirePort? Port;
        public readonly DpuOpticalCounters Counters = new(queues);
        public bool BondUp = true;
        public long CarrierChangedNs = long.MinValue;
    }

    private sealed class Ingress(DpuSwitch owner, int vid) : IFrameReceiver
    {
        public void Receive(ReadOnlySpan<byte> frame) => owner.FromPort(vid, frame);

        public void ReceiveBurst(FrameBatch frames) => owner.FromPortBurst(vid, frames);
    }

    public DpuSwitch(DpuConfig config, IClock clock, IReadOnlyList<Link> socWires, IReadOnlyList<Link> opticalWires)
    {
        _clock = clock;
        _hosts = new HostPort?[config.ElasticNicSlots];
        _socs = socWires.Select(w => new SocPort(w)).ToArray();
        _optical = opticalWires.Select(w => new OpticalPort(w, Math.Min(config.OpticalQueues, 16))).ToArray();
        for (int p = 0; p < _socs.Length; p++) _socs[p].Port = _socs[p].Wire.Attach(new Ingress(this, SocBase + p));
        for (int p = 0; p < _optical.Length; p++)
        {
            OpticalPort o = _optical[p];
            o.Port = o.Wire.Attach(new Ingress(this, OpticalBase + p));
            o.Wire.CarrierChanged += _ =>
            {
                lock (_sync) o.CarrierChangedNs = _clock.NowNs; // when it happened, for the MII monitor
            };
        }
        _tables = new Tables([], [], Enumerable.Repeat(-1, _socs.Length).ToArray(), Enumerable.Repeat(config.OpticalMtu, _optical.Length).ToArray(), DpuBond.Off);
    }

    public IClock Clock => _clock;

    /// <summary>The wire of SoC port <paramref name="pfid"/> (the SoC's side of it is free for a test or script).</summary>
    public Link SocWire(int pfid) => _socs[pfid].Wire;

    /// <summary>The wire of optical port <paramref name="port"/> (its far end is the outside world: a generator, a TAP).</summary>
    public Link OpticalWire(int port) => _optical[port].Wire;

    public DpuPortCounters? HostCounters(uint vport) => vport < _hosts.Length ? Volatile.Read(ref _hosts[vport])?.Counters : null;

    public DpuPortCounters SocCounters(int pfid) => _socs[pfid].Counters;

    public DpuOpticalCounters OpticalCounters(int port) => _optical[port].Counters;

    /// <summary>Carrier of the optical port's wire (the emulator's or a fault injector's).</summary>
    public bool LinkUp(int port) => _optical[port].Wire.Carrier;

    public DpuMeter? Meter(uint id)
    {
        lock (_sync) return _meters.GetValueOrDefault(id);
    }

    // ---------------------------------------------------------------- ports

    /// <summary>Plugs an elastic NIC in: its own cable to the switch, its TX doorbell served by the switch. Counters start at 0.</summary>
    public void AddHost(uint vport, IElasticNic nic)
    {
        Link wire = Links.Pair($"dpu-vport{vport}");
        nic.Model.Connect(wire);
        WirePort side = wire.Attach(new Ingress(this, (int)vport));
        lock (_sync)
        {
            Volatile.Write(ref _hosts[vport], new HostPort(vport, nic, wire, side));
            nic.TxDoorbell = Doorbell;
            nic.BadTxBufferIsFrameError = true; // a bad descriptor is the vport's tx_error (§5.3 step 1)
        }
    }

    public void RemoveHost(uint vport)
    {
        HostPort? h;
        lock (_sync)
        {
            h = _hosts[vport];
            Volatile.Write(ref _hosts[vport], null);
        }
        if (h is null) return;
        h.Nic.TxDoorbell = null;
        h.Wire.Dispose();
    }

    /// <summary>A vport's MAC or MTU changed (SetPortCfg): default forwarding and the frame-size checks follow it.</summary>
    public void HostMacChanged(uint vport)
    {
        lock (_sync)
            if (_hosts[vport] is { } h)
            {
                h.Mac = MacAddress.ToUInt64(h.Nic.Model.Mac);
                h.Mtu = h.Nic.Model.Mtu;
            }
    }

    private void Doorbell(IElasticNic nic)
    {
        lock (_sync) nic.ProcessTx(); // switch lock first, then the NIC's: its frames come back through FromPort
    }

    // ---------------------------------------------------------------- tables

    /// <summary>Swaps in what the agent committed: rules (in any order), meters by id (rate, packets), SoC redirects
    /// (−1: none), optical MTUs and the bond. A meter that stays keeps its bucket and counters; a rate change applies to
    /// the next frame.</summary>
    public void Program(IEnumerable<DpuRule> rules, IEnumerable<(uint Id, uint Rate, bool Packets)> meters, int[] redirect, uint[] opticalMtu, DpuBond bond)
    {
        lock (_sync)
        {
            long now = _clock.NowNs;
            var keep = new HashSet<uint>();
            foreach (var (id, rate, packets) in meters)
            {
                keep.Add(id);
                if (_meters.TryGetValue(id, out DpuMeter? m))
                {
                    if (m.Rate != rate || m.Packets != packets) m.SetRate(rate, packets, now);
                }
                else _meters[id] = new DpuMeter(id, rate, packets, now);
            }
            foreach (uint gone in _meters.Keys.Where(k => !keep.Contains(k)).ToList()) _meters.Remove(gone);
            DpuRule[] sorted = rules.OrderBy(r => r.KeyIndex).ToArray();
            DpuMeter?[] ruleMeters = sorted.Select(r => r.MeterId is { } id ? _meters.GetValueOrDefault(id) : null).ToArray();
            Tables old = _tables;
            if (bond.Enabled && (!old.Bond.Enabled || !old.Bond.Members.SequenceEqual(bond.Members)))
            {
                _bondEpochNs = now; // members start up as their carrier says
                foreach (OpticalPort o in _optical) o.BondUp = o.Wire.Carrier;
            }
            Volatile.Write(ref _tables, new Tables(sorted, ruleMeters, [.. redirect], [.. opticalMtu], bond));
        }
    }

    // ---------------------------------------------------------------- the frame path

    /// <summary>One frame (a port that does not send bursts, a fault injector's release): a burst of one.</summary>
    private unsafe void FromPort(int vid, ReadOnlySpan<byte> frame)
    {
        Burst b = Burst.Rent();
        try
        {
            fixed (byte* p = frame) // pinned for the call: the batch holds the frame no longer
            {
                b.One.Clear();
                b.One.Add(p, frame.Length);
                FromPort(vid, b.One, b);
            }
        }
        finally
        {
            b.Return();
        }
    }

    private void FromPortBurst(int vid, FrameBatch frames)
    {
        if (frames.Count == 0) return;
        Burst b = Burst.Rent();
        try
        {
            FromPort(vid, frames, b);
        }
        finally
        {
            b.Return();
        }
    }

    private void FromPort(int vid, FrameBatch frames, Burst b)
    {
        Tables t = Volatile.Read(ref _tables);
        b.Start();
        if (vid >= OpticalBase && !t.Bond.Enabled)
        {
            FromWire(t, vid - OpticalBase, frames, b); // a cable's burst takes no switch lock (see the design note)
            return;
        }
        lock (_sync)
        {
            MonitorBond(t);
            if (vid >= OpticalBase) FromWire(t, vid - OpticalBase, frames, b);
            else if (vid >= SocBase) FromSoc(t, vid - SocBase, frames, b);
            else FromHost(t, (uint)vid, frames, b);
        }
    }

    private static int MaxFrame(uint mtu, int tags) => (int)mtu + 14 + 4 * tags;

    /// <summary><paramref name="hash"/> mod <paramref name="queues"/>, without a divide for a power of two (the usual count).</summary>
    private static int QueueOf(uint hash, int queues) =>
        (queues & (queues - 1)) == 0 ? (int)(hash & (uint)(queues - 1)) : (int)(hash % (uint)queues);

    /// <summary>Step 1 for a vport's burst (under the switch's lock): parse, the MTU check, tx counters; then the rest.</summary>
    private void FromHost(Tables t, uint vport, FrameBatch frames, Burst b)
    {
        if (_hosts[vport] is not { } h) return;
        DpuPortCounters c = h.Counters;
        for (int i = 0; i < frames.Count; i++)
        {
            ReadOnlySpan<byte> frame = frames[i];
            b.Hash[i] = -1;
            if (!FrameFields.TryParse(frame, out b.Fields[i]) || frame.Length > MaxFrame(h.Mtu, b.Fields[i].Tags))
            {
                c.TxError++;
                b.Rule[i] = Skip;
                continue;
            }
            c.TxPackets++;
            c.TxBytes += frame.Length;
            b.Rule[i] = b.Lookup(t.Classifier, i, (int)vport);
        }
        Forward(t, (int)vport, frames, b, c);
    }

    private void FromSoc(Tables t, int pfid, FrameBatch frames, Burst b)
    {
        DpuPortCounters c = _socs[pfid].Counters;
        for (int i = 0; i < frames.Count; i++)
        {
            ReadOnlySpan<byte> frame = frames[i];
            b.Hash[i] = -1;
            if (!FrameFields.TryParse(frame, out b.Fields[i]))
            {
                c.TxError++;
                b.Rule[i] = Skip;
                continue;
            }
            c.TxPackets++;
            c.TxBytes += frame.Length;
            b.Rule[i] = b.Lookup(t.Classifier, i, SocBase + pfid);
        }
        Forward(t, SocBase + pfid, frames, b, c);
    }

    /// <summary>A cable's burst: no switch lock unless the bond is on (then the caller holds it), so two cables run at once;
    /// its input counters are added once per burst, atomically.</summary>
    private void FromWire(Tables t, int port, FrameBatch frames, Burst b)
    {
        OpticalPort o = _optical[port];
        DpuOpticalCounters c = o.Counters;
        int maxFrame = MaxFrame(t.OpticalMtu[port], 0);
        bool corrupt = FaultInjector.DeliveringCorruptFrame; // only ever a single frame, so one look per burst
        DpuBond bond = t.Bond;
        // active-backup: a member that is not the active one counts what arrives and passes none of it on
        bool standby = bond.Enabled && bond.Mode == 1 && !bond.AllSlavesActive && Array.IndexOf(bond.Members, port) >= 0 && ActiveMember(bond) != port;
        int vid = OpticalBase + port;
        long packets = 0, bytes = 0, errors = 0;
        Span<long> qPackets = b.QPackets.AsSpan(0, c.Queues), qBytes = b.QBytes.AsSpan(0, c.Queues);
        qPackets.Clear();
        qBytes.Clear();
        for (int i = 0; i < frames.Count; i++)
        {
            ReadOnlySpan<byte> frame = frames[i];
            ref FrameFields f = ref b.Fields[i];
            b.Hash[i] = -1;
            if (corrupt || !FrameFields.TryParse(frame, out f) || frame.Length > maxFrame + 4 * f.Tags)
            {
                errors++;
                b.Rule[i] = Skip;
                continue;
            }
            packets++;
            bytes += frame.Length;
            int q = QueueOf(b.FlowHash(i), c.Queues);
            qPackets[q]++;
            qBytes[q] += frame.Length;
            b.Rule[i] = standby ? Skip : b.Lookup(t.Classifier, i, vid);
        }
        if (errors != 0) Interlocked.Add(ref c.IErrors, errors);
        if (packets != 0)
        {
            Interlocked.Add(ref c.IPackets, packets);
            Interlocked.Add(ref c.IBytes, bytes);
            for (int q = 0; q < qPackets.Length; q++)
                if (qPackets[q] != 0)
                {
                    Interlocked.Add(ref c.QIPackets[q], qPackets[q]);
                    Interlocked.Add(ref c.QIBytes[q], qBytes[q]);
                }
        }
        Forward(t, vid, frames, b, null);
    }

    /// <summary>Steps 2–6 for a burst whose frames are parsed and looked up (<see cref="Burst.Rule"/>): rule hits and meters
    /// (each meter's lock once per run of frames, one clock read per burst), then each frame's target or default
    /// forwarding, the SoC redirect, and delivery: to a vport as one burst per vport at the end.</summary>
    private void Forward(Tables t, int ingress, FrameBatch frames, Burst b, DpuPortCounters? source)
    {
        Meter(t, frames, b);
        bool fromWire = ingress >= OpticalBase;
        for (int i = 0; i < frames.Count; i++)
        {
            int r = b.Rule[i];
            if (r == Skip) continue;
            ref FrameFields f = ref b.Fields[i];
            if (r >= 0)
            {
                DpuRule rule = t.Rules[r];
                if (rule.Vid == Drop) continue;
                int target = Redirect(t, rule.Vid);
                if (b.Red[i])
                {
                    if (PortCountersOf(target) is { } dropped) Interlocked.Increment(ref dropped.RxDrop);
                    continue;
                }
                Deliver(t, target, rule.Qid, frames, i, b, source);
                continue;
            }
            // default forwarding
            if (!f.IsMulticast)
            {
                int to = HostOf(f.Dmac);
                if (to >= 0) Deliver(t, to, -1, frames, i, b, source);
                else if (fromWire) Deliver(t, Redirect(t, SocBase), -1, frames, i, b, source);
                else Uplink(t, frames, i, b, source);
                continue;
            }
            for (int v = 0; v < _hosts.Length; v++)
                if (_hosts[v] is not null && v != ingress) Deliver(t, v, -1, frames, i, b, source);
            if (ingress != SocBase) Deliver(t, Redirect(t, SocBase), -1, frames, i, b, source);
            if (!fromWire) Uplink(t, frames, i, b, source);
        }
        ToHosts(b);
    }

    /// <summary>The vport whose MAC is <paramref name="dmac"/>, or −1.</summary>
    private int HostOf(ulong dmac)
    {
        for (int v = 0; v < _hosts.Length; v++)
            if (_hosts[v] is { } h && h.Mac == dmac) return v;
        return -1;
    }

    /// <summary>Rule hits (added once per run of frames on one rule) and meters (a drop rule's meter is charged too; its
    /// colour is not used): <see cref="Burst.Red"/> marks the frames a meter dropped.</summary>
    private void Meter(Tables t, FrameBatch frames, Burst b)
    {
        int run = -1;
        long runPackets = 0, runBytes = 0, now = 0;
        DpuMeter? held = null;
        try
        {
            for (int i = 0; i < frames.Count; i++)
            {
                int r = b.Rule[i];
                b.Red[i] = false;
                if (r < 0) continue;
                int length = frames[i].Length;
                if (r != run)
                {
                    if (run >= 0) t.Rules[run].Hit(runPackets, runBytes);
                    (run, runPackets, runBytes) = (r, 0, 0);
                }
                runPackets++;
                runBytes += length;
                if (t.RuleMeters[r] is not { } m) continue;
                if (m != held)
                {
                    if (held is null) now = _clock.NowNs; // one clock read per burst
                    else Monitor.Exit(held.Sync);
                    held = null;
                    Monitor.Enter(m.Sync);
                    held = m;
                }
                b.Red[i] = !m.AdmitLocked(length, now);
            }
        }
        finally
        {
            if (held is not null) Monitor.Exit(held.Sync);
        }
        if (run >= 0) t.Rules[run].Hit(runPackets, runBytes);
    }

    private static int Redirect(Tables t, int vid) =>
        vid >= SocBase && vid < OpticalBase && t.Redirect[vid - SocBase] is var to && to >= 0 ? SocBase + to : vid;

    /// <summary>Where a red frame counts as <c>rx_drop</c> besides the meter: a vport's or SoC port's counters. An optical
    /// port has none (DPDK's <c>oerrors</c> are the port's own transmit failures), so there the meter's <c>drop_*</c> is the count.</summary>
    private DpuPortCounters? PortCountersOf(int vid) =>
        vid >= OpticalBase ? null : vid >= SocBase ? (vid - SocBase < _socs.Length ? _socs[vid - SocBase].Counters : null) : _hosts[vid]?.Counters;

    /// <summary>Frame <paramref name="i"/> to <paramref name="vid"/>: a vport's frames wait in the burst's batch for it (sent
    /// by <see cref="ToHosts"/>); a SoC or optical port's go now, under the switch's lock (their wires' far ends are
    /// anyone's, who may answer at once and re-enter).</summary>
    private void Deliver(Tables t, int vid, int qid, FrameBatch frames, int i, Burst b, DpuPortCounters? source)
    {
        if (vid >= OpticalBase)
        {
            // only a rule names an optical port: that port's wire, whatever the bond (default forwarding uses Uplink)
            lock (_sync) ToWire(t, vid - OpticalBase, frames, i, b, qid);
            return;
        }
        if (vid >= SocBase)
        {
            SocPort s = _socs[vid - SocBase];
            ReadOnlySpan<byte> frame = frames[i];
            lock (_sync)
            {
                s.Counters.RxPackets++;
                s.Counters.RxBytes += frame.Length;
                s.Port?.Transmit(frame);
            }
            return;
        }
        if (_hosts[vid] is not { } h) return;
        Burst.ToHost to = b.For(vid, h);
        ref FrameFields f = ref b.Fields[i];
        // the rule's queue, or a per-flow hash over the pairs the driver enabled; a queue it did not enable drops the frame
        int queue = qid >= 0 ? qid : to.Pairs > 1 ? QueueOf(b.FlowHash(i), to.Pairs) : 0;
        if (frames[i].Length > MaxFrame(h.Mtu, f.Tags))
        {
            to.Dropped++;
            return;
        }
        to.Queues[to.Frames.Count] = queue;
        to.Frames.Add(frames, i);
    }

    /// <summary>Each vport's frames of the burst as one burst into its function (one receive lock, one ring publish), then
    /// its rx counters, atomically: frames from several cables reach a vport at once.</summary>
    private static void ToHosts(Burst b)
    {
        for (int k = 0; k < b.Used; k++)
        {
            Burst.ToHost to = b.Hosts[b.UsedVports[k]]!;
            HostPort h = to.Port!;
            long delivered = 0, bytes = 0, dropped = to.Dropped;
            if (to.Frames.Count > 0)
            {
                h.Nic.DeliverBurst(to.Frames, to.Queues, to.Delivered);
                for (int i = 0; i < to.Frames.Count; i++)
                    if (to.Delivered[i])
                    {
                        delivered++;
                        bytes += to.Frames[i].Length;
                    }
                    else dropped++;
            }
            DpuPortCounters c = h.Counters;
            if (delivered != 0)
            {
                Interlocked.Add(ref c.RxPackets, delivered);
                Interlocked.Add(ref c.RxBytes, bytes);
            }
            if (dropped != 0) Interlocked.Add(ref c.RxDrop, dropped);
            to.Reset();
        }
        b.Used = 0;
    }

    /// <summary>To the outside: optical port 0 while the bond is off, else per the bond's mode. Only from a vport or SoC
    /// port, under the switch's lock.</summary>
    private void Uplink(Tables t, FrameBatch frames, int i, Burst b, DpuPortCounters? source)
    {
        DpuBond bond = t.Bond;
        if (!bond.Enabled)
        {
            if (_optical.Length > 0) ToWire(t, 0, frames, i, b);
            return;
        }
        Span<int> up = stackalloc int[bond.Members.Length];
        int n = 0;
        foreach (int m in bond.Members)
            if (_optical[m].BondUp) up[n++] = m;
        if (n == 0)
        {
            if (source is not null) source.TxDrop++;
            return;
        }
        switch (bond.Mode)
        {
            case 1: ToWire(t, ActiveMember(bond), frames, i, b); break;
            case 2: ToWire(t, up[(int)(b.Fields[i].BondHash(bond.HashPolicy) % (uint)n)], frames, i, b); break;
            case 3:
                for (int k = 0; k < n; k++) ToWire(t, up[k], frames, i, b);
                break;
            default: ToWire(t, up[(int)((uint)_rrNext++ % (uint)n)], frames, i, b); break;
        }
    }

    /// <summary>Out of optical port <paramref name="port"/>: on transmit queue <paramref name="qid"/> (a rule's), or by
    /// the flow's hash when it is −1.</summary>
    private void ToWire(Tables t, int port, FrameBatch frames, int i, Burst b, int qid = -1)
    {
        ReadOnlySpan<byte> frame = frames[i];
        OpticalPort o = _optical[port];
        DpuOpticalCounters c = o.Counters;
        if (!o.Wire.Carrier || frame.Length > MaxFrame(t.OpticalMtu[port], b.Fields[i].Tags))
        {
            c.OErrors++;
            return;
        }
        int q = qid >= 0 && qid < c.Queues ? qid : QueueOf(b.FlowHash(i), c.Queues);
        c.OPackets++;
        c.OBytes += frame.Length;
        c.QOPackets[q]++;
        c.QOBytes[q] += frame.Length;
        o.Port?.Transmit(frame);
    }

    // ---------------------------------------------------------------- bond link monitoring

    /// <summary>The member carrying traffic in active-backup: the primary while it is up (or, with reselect "failure",
    /// the current one while it stays up), else the first member up in <c>members</c> order; −1 when none is.</summary>
    public int ActiveMember()
    {
        lock (_sync)
        {
            Tables t = Volatile.Read(ref _tables);
            MonitorBond(t);
            return t.Bond.Enabled ? ActiveMember(t.Bond) : 0;
        }
    }

    private int _active = -1;

    private int ActiveMember(DpuBond bond)
    {
        if (bond.Mode != 1) return FirstUp(bond);
        bool keep = _active >= 0 && Array.IndexOf(bond.Members, _active) >= 0 && _optical[_active].BondUp;
        if (bond.Primary >= 0 && _optical[bond.Primary].BondUp && !(bond.Reselect == 2 && keep)) _active = bond.Primary;
        else if (!keep) _active = FirstUp(bond);
        return _active;
    }

    /// <summary>The first member the bond sees up, in <c>members</c> order, or −1.</summary>
    private int FirstUp(DpuBond bond)
    {
        foreach (int m in bond.Members)
            if (_optical[m].BondUp) return m;
        return -1;
    }

    /// <summary>Runs the MII monitor up to now: a member whose carrier differs from the bond's view is noticed at the
    /// first miimon tick after the change and declared down (up) downdelay (updelay) later. Called by every burst (under the
    /// switch's lock: a cable's burst takes it while the bond is on) and read.</summary>
    private void MonitorBond(Tables t)
    {
        DpuBond bond = t.Bond;
        if (!bond.Enabled || bond.MiimonMs == 0) return;
        long now = _clock.NowNs, period = bond.MiimonMs * 1_000_000L;
        foreach (int m in bond.Members)
        {
            OpticalPort o = _optical[m];
            bool carrier = o.Wire.Carrier;
            if (carrier == o.BondUp) continue;
            long changed = o.CarrierChangedNs >= _bondEpochNs ? o.CarrierChangedNs : now; // a change the wire did not report: seen now
            o.CarrierChangedNs = changed;
            long noticed = _bondEpochNs + ((changed - _bondEpochNs) / period + 1) * period; // the first tick after it
            if (now >= noticed + (carrier ? bond.UpdelayMs : bond.DowndelayMs) * 1_000_000L) o.BondUp = carrier;
        }
    }

    /// <summary>The link monitor's timer: run it every few milliseconds in a live agent.</summary>
    public void Tick()
    {
        lock (_sync) MonitorBond(Volatile.Read(ref _tables));
    }
}
