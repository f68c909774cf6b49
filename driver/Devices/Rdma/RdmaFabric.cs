using NicScript.Driver.Devices.Virtio;
using System.Net;
using NicScript.Driver.Memory;
using NicScript.Driver.Time;

namespace NicScript.Driver.Devices.Rdma;

/// <summary>
/// Every RDMA device of a machine and the virtual clock their timers run on (reference/rdma.md §3.7).
/// </summary>
/// <remarks>
/// Design: one lock for all engines of the machine; work happens only in <see cref="Progress"/> (called by every poll),
/// never in the middle of a post. Frames cross the wire synchronously into the receiving device's ring (a copy under the
/// ring's own small lock, so a frame arriving on a TAP thread never waits for the engine). When a progress pass finds
/// nothing to do and a timer is armed, the clock jumps to the earliest deadline — once per call, so a peer that answers
/// RNR forever costs one retry per poll and no wall time. The virtual clock is a <see cref="ManualClock"/>: a test may hold
/// it and step it itself, then <c>Progress(mayJump: false)</c> fires exactly the timers that are due.
/// </remarks>
public sealed class RdmaFabric
{
    internal readonly object Sync = new();
    private readonly List<RdmaDevice> _devices = new();

    /// <param name="clock">The virtual clock the timers run on; a new one at 0 when null.</param>
    public RdmaFabric(DmaMemory memory, int seed = 1, ManualClock? clock = null)
    {
        Memory = memory;
        Clock = clock ?? new ManualClock();
        Random = new Random(seed);
    }

    internal DmaMemory Memory { get; }
    internal Random Random { get; }

    /// <summary>The virtual clock: advanced by jumps to the next timer deadline (or by a test that holds it).</summary>
    public ManualClock Clock { get; }

    /// <summary>Virtual nanoseconds (<see cref="Clock"/>).</summary>
    public long NowNs => Clock.NowNs;

    public IReadOnlyList<RdmaDevice> Devices
    {
        get { lock (Sync) return _devices.ToArray(); }
    }

    /// <summary>Binds an RDMA device to the NIC <paramref name="function"/> (any family with a wire port), taking <paramref name="ipv4"/>
    /// (its GID is <c>::ffff:a.b.c.d</c>).</summary>
    /// <exception cref="ArgumentException">The function has an RDMA device already, or its DMA space is not an IOMMU domain over
    /// this fabric's memory (MRs are regions of that memory).</exception>
    public RdmaDevice Attach(INicModel function, IPAddress ipv4)
    {
        lock (Sync)
        {
            if (_devices.Any(d => d.Function == function)) throw new ArgumentException($"{function.Function.Address} already has an RDMA device", nameof(function));
            if (function.Dma is not IommuDomain domain || !domain.Over(Memory))
                throw new ArgumentException($"{function.Function.Address} does not do DMA in this machine's memory", nameof(function));
            var device = new RdmaDevice(this, function, domain, ipv4);
            _devices.Add(device);
            function.SetTap(device);
            return device;
        }
    }

    internal RdmaDevice? ByIp(uint ip)
    {
        foreach (RdmaDevice d in _devices)
            if (d.Ip == ip) return d;
        return null;
    }

    public RdmaDevice? ByFunction(Pci.PciAddress address)
    {
        lock (Sync) return _devices.FirstOrDefault(d => d.Function.Function.Address == address);
    }

    /// <summary>Runs every engine until nothing moves; then, if a timer is armed, jumps the clock to it once (unless
    /// <paramref name="mayJump"/> is false: then only timers the clock has reached fire) and runs again.</summary>
    public void Progress(bool mayJump = true)
    {
        lock (Sync)
        {
            RunUntilIdle();
            long next = long.MaxValue;
            foreach (RdmaDevice d in _devices) next = Math.Min(next, d.NextDeadline());
            if (next == long.MaxValue) return;
            long now = Clock.NowNs;
            if (next > now)
            {
                if (!mayJump) return;
                Clock.AdvanceNs(next - now);
            }
            foreach (RdmaDevice d in _devices) d.FireTimers();
            RunUntilIdle();
        }
    }

    private void RunUntilIdle()
    {
        bool moved;
        int rounds = 0;
        do
        {
            moved = false;
            foreach (RdmaDevice d in _devices) moved |= d.Run();
        }
        while (moved && ++rounds < 100_000);
    }

    /// <summary>True when no engine has work, no frame waits in a ring and no timer is armed.</summary>
    public bool Quiescent
    {
        get
        {
            lock (Sync) return _devices.All(d => d.Idle && d.NextDeadline() == long.MaxValue);
        }
    }
}
