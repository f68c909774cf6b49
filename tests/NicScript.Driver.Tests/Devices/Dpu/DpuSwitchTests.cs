using NicScript.Driver.Time;
using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Dpu;

/// <summary>The switch on its own (the agent's checklist tests drive it through gRPC): what the data path costs per frame.</summary>
public sealed class DpuSwitchTests
{
    [Fact]
    public void The_frame_path_allocates_nothing_per_frame()
    {
        using Machine machine = DefaultMachine.Create();
        var dpu = new DpuDevice(machine, new DpuConfig(), VirtioDpuFunctions.Instance, new ManualClock());
        Assert.True(dpu.AddElasticNic(0, [2, 0x4e, 0x53, 0, 0, 0], 1500));
        var key = new DpuKey(0, 0, 0, 0, 4, [0x0A000002], [0xFFFFFFFF], [], [], 0, 0, 0, 0, 0, 0, 0, 0, 0x20000, 0x30000);
        dpu.Switch.Program([new DpuRule(1, key, 0, -1, 7)], [(7, uint.MaxValue, false)], [-1, -1], [1500, 1500], DpuBond.Off);
        Assert.True(machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out PciFunction f));
        VirtioNetDriver host = VirtioNetDriver.BringUp(f, machine.Dma, machine.Dma.CreateOwner("host", 64 << 20), 256);
        using var wire = new FrameGenerator(dpu.Switch.OpticalWire(0));
        wire.Configure(new TrafficSpec { Destination = "10.0.0.2", Flows = 4 });
        var burst = new FrameBurst(host.Pool);
        void Run(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                wire.Send(32);
                while (host.RxPoll(burst) > 0) { }
            }
        }
        Run(100); // warm up: JIT, first-use paths
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(1_000); // 32,000 frames: classified, metered, delivered, received
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_100 * 32, dpu.Switch.HostCounters(0)!.RxPacketsCount);
        Assert.True(allocated < 1024, $"{allocated} bytes allocated for 32,000 frames");
    }
}
