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
/// Design: one lock for the data path; it is taken before any device's own lock (an elastic NIC's TX doorbell is served
/// here, <see cref="IElasticNic.TxDoorbell"/>, so the switch locks first and then pulls the NIC's ring), which makes
/// NIC → switch → NIC deliveries deadlock-free. The classifier, meters and redirects are read from an immutable
/// <see cref="Tables"/> snapshot the agent swaps in after each change (<see cref="Program"/>), so a frame classified
/// after a reply sees the change and nothing sees half of one. Per frame: one parse into a struct, a lookup of the rules
/// (tuple-space search, <see cref="DpuClassifier"/>), and the copy into the receiver's buffer; nothing is allocated.
/// </remarks>
public sealed class DpuSwitch
{
    public const int SocBase = 0x10000, OpticalBase = 0x20000, Drop = -1;

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

    private void FromPort(int vid, ReadOnlySpan<byte> frame)
    {
        lock (_sync)
        {
            Tables t = Volatile.Read(ref _tables);
            MonitorBond(t);
            if (vid >= OpticalBase) FromWire(t, vid - OpticalBase, frame);
            else if (vid >= SocBase) FromSoc(t, vid - SocBase, frame);
            else FromHost(t, (uint)vid, frame);
        }
    }

    private static int MaxFrame(uint mtu, int tags) => (int)mtu + 14 + 4 * tags;

    private void FromHost(Tables t, uint vport, ReadOnlySpan<byte> frame)
    {
        if (_hosts[vport] is not { } h) return;
        if (!FrameFields.TryParse(frame, out FrameFields f) || frame.Length > MaxFrame(h.Mtu, f.Tags))
        {
            h.Counters.TxError++;
            return;
        }
        h.Counters.TxPackets++;
        h.Counters.TxBytes += frame.Length;
        Forward(t, (int)vport, frame, ref f, h.Counters);
    }

    private void FromSoc(Tables t, int pfid, ReadOnlySpan<byte> frame)
    {
        DpuPortCounters c = _socs[pfid].Counters;
        if (!FrameFields.TryParse(frame, out FrameFields f))
        {
            c.TxError++;
            return;
        }
        c.TxPackets++;
        c.TxBytes += frame.Length;
        Forward(t, SocBase + pfid, frame, ref f, c);
    }

    private void FromWire(Tables t, int port, ReadOnlySpan<byte> frame)
    {
        OpticalPort o = _optical[port];
        DpuOpticalCounters c = o.Counters;
        if (FaultInjector.DeliveringCorruptFrame || !FrameFields.TryParse(frame, out FrameFields f) || frame.Length > MaxFrame(t.OpticalMtu[port], f.Tags))
        {
            c.IErrors++;
            return;
        }
        c.IPackets++;
        c.IBytes += frame.Length;
        int q = (int)(f.FlowHash() % (uint)c.Queues);
        c.QIPackets[q]++;
        c.QIBytes[q] += frame.Length;
        DpuBond bond = t.Bond;
        if (bond.Enabled && bond.Mode == 1 && !bond.AllSlavesActive && Array.IndexOf(bond.Members, port) >= 0 && ActiveMember(bond) != port) return;
        Forward(t, OpticalBase + port, frame, ref f, null);
    }

    /// <summary>Steps 2–6: classifier, meter, target or default forwarding, SoC redirect, delivery.</summary>
    private void Forward(Tables t, int ingress, ReadOnlySpan<byte> frame, ref FrameFields f, DpuPortCounters? source)
    {
        int i = t.Classifier.Lookup(f, ingress);
        if (i >= 0)
        {
            DpuRule rule = t.Rules[i];
            rule.Hit(frame.Length);
            if (rule.Vid == Drop)
            {
                t.RuleMeters[i]?.Admit(frame.Length, _clock.NowNs);
                return;
            }
            int target = Redirect(t, rule.Vid);
            if (t.RuleMeters[i] is { } meter && !meter.Admit(frame.Length, _clock.NowNs))
            {
                if (PortCountersOf(target) is { } dropped) dropped.RxDrop++;
                return;
            }
            Deliver(t, target, rule.Qid, frame, f, source);
            return;
        }
        // default forwarding
        bool fromWire = ingress >= OpticalBase;
        if (!f.IsMulticast)
        {
            for (int v = 0; v < _hosts.Length; v++)
                if (_hosts[v] is { } h && h.Mac == f.Dmac)
                {
                    Deliver(t, v, -1, frame, f, source);
                    return;
                }
            if (fromWire) Deliver(t, Redirect(t, SocBase), -1, frame, f, source);
            else Uplink(t, frame, f, source);
            return;
        }
        for (int v = 0; v < _hosts.Length; v++)
            if (_hosts[v] is not null && v != ingress) Deliver(t, v, -1, frame, f, source);
        if (ingress != SocBase) Deliver(t, Redirect(t, SocBase), -1, frame, f, source);
        if (!fromWire) Uplink(t, frame, f, source);
    }

    private static int Redirect(Tables t, int vid) =>
        vid >= SocBase && vid < OpticalBase && t.Redirect[vid - SocBase] is var to && to >= 0 ? SocBase + to : vid;

    /// <summary>Where a red frame counts as <c>rx_drop</c> besides the meter: a vport's or SoC port's counters. An optical
    /// port has none (DPDK's <c>oerrors</c> are the port's own transmit failures), so there the meter's <c>drop_*</c> is the count.</summary>
    private DpuPortCounters? PortCountersOf(int vid) =>
        vid >= OpticalBase ? null : vid >= SocBase ? (vid - SocBase < _socs.Length ? _socs[vid - SocBase].Counters : null) : _hosts[vid]?.Counters;

    private void Deliver(Tables t, int vid, int qid, ReadOnlySpan<byte> frame, in FrameFields f, DpuPortCounters? source)
    {
        if (vid >= OpticalBase)
        {
            // only a rule names an optical port: that port's wire, whatever the bond (default forwarding uses Uplink)
            ToWire(t, vid - OpticalBase, frame, f, qid);
            return;
        }
        if (vid >= SocBase)
        {
            SocPort s = _socs[vid - SocBase];
            s.Counters.RxPackets++;
            s.Counters.RxBytes += frame.Length;
            s.Port?.Transmit(frame);
            return;
        }
        if (_hosts[vid] is not { } h) return;
        // the rule's queue, or a per-flow hash over the pairs the driver enabled; a queue it did not enable drops the frame
        int pairs = h.Nic.ActivePairs;
        int queue = qid >= 0 ? qid : pairs > 1 ? (int)(f.FlowHash() % (uint)pairs) : 0;
        if (frame.Length > MaxFrame(h.Mtu, f.Tags) || !h.Nic.Deliver(frame, queue))
        {
            h.Counters.RxDrop++;
            return;
        }
        h.Counters.RxPackets++;
        h.Counters.RxBytes += frame.Length;
    }

    /// <summary>To the outside: optical port 0 while the bond is off, else per the bond's mode.</summary>
    private void Uplink(Tables t, ReadOnlySpan<byte> frame, in FrameFields f, DpuPortCounters? source)
    {
        DpuBond bond = t.Bond;
        if (!bond.Enabled)
        {
            if (_optical.Length > 0) ToWire(t, 0, frame, f);
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
            case 1: ToWire(t, ActiveMember(bond), frame, f); break;
            case 2: ToWire(t, up[(int)(f.BondHash(bond.HashPolicy) % (uint)n)], frame, f); break;
            case 3:
                for (int i = 0; i < n; i++) ToWire(t, up[i], frame, f);
                break;
            default: ToWire(t, up[(int)((uint)_rrNext++ % (uint)n)], frame, f); break;
        }
    }

    /// <summary>Out of optical port <paramref name="port"/>: on transmit queue <paramref name="qid"/> (a rule's), or by
    /// the flow's hash when it is −1.</summary>
    private void ToWire(Tables t, int port, ReadOnlySpan<byte> frame, in FrameFields f, int qid = -1)
    {
        OpticalPort o = _optical[port];
        DpuOpticalCounters c = o.Counters;
        if (!o.Wire.Carrier || frame.Length > MaxFrame(t.OpticalMtu[port], f.Tags))
        {
            c.OErrors++;
            return;
        }
        int q = qid >= 0 && qid < c.Queues ? qid : (int)(f.FlowHash() % (uint)c.Queues);
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
    /// first miimon tick after the change and declared down (up) downdelay (updelay) later. Called by every frame and read.</summary>
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
