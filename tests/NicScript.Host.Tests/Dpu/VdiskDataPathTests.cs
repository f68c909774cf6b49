using System.Diagnostics;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Pci;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>Checklist DPU-22, 24, 25 and 27: the vdisks' virtio-blk functions driven by a host driver while the agent changes them.</summary>
public sealed class VdiskDataPathTests : IAsyncLifetime
{
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync() => _f = await StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    private async Task<VirtioBlkDriver> DiskWithDriver(uint id, uint maxQueue = 1, int queues = 1)
    {
        Assert.Equal(Ok, (await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = $"disk{id}", PvfId = id, MaxQueue = maxQueue })).Status);
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.VdiskAddress(id), out PciFunction f));
        return VirtioBlkDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner($"host{id}", 16 << 20), queues);
    }

    private async Task<VdiskGetPvfCfgResponse> Cfg(uint id) => await _f.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = id });

    [Fact]
    public async Task DPU_22_a_resize_reaches_the_driver_through_a_config_interrupt()
    {
        VirtioBlkDriver drv = await DiskWithDriver(5);
        Assert.Equal(1u, (await Cfg(5)).TransStatus); // DRIVER_OK: running
        drv.AckInterrupt();
        Assert.Equal(Ok, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 2097152 })).Status);
        Assert.Equal(2097152ul, (await Cfg(5)).SectorNum);
        Assert.Equal(2, drv.AckInterrupt() & 2); // config changed
        Assert.Equal(2097152ul, drv.Capacity);
        var sector = new byte[512];
        Assert.Equal(VirtioBlk.StatusOk, drv.Read(2097151, sector));
        Assert.All(sector, b => Assert.Equal(0, b));
        Assert.Equal(VirtioBlk.StatusIoErr, drv.Read(2097152, sector));
        // DPU-23's first step, seen from the driver: the same size again raises nothing
        Assert.Equal(Ok, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 2097152 })).Status);
        Assert.Equal(0, drv.AckInterrupt());
    }

    [Fact]
    public async Task DPU_24_pause_holds_new_requests_and_resume_completes_them()
    {
        VirtioBlkDriver drv = await DiskWithDriver(5);
        await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 1024 });
        var buf = new byte[4096];
        for (int i = 0; i < 10; i++) Assert.Equal(VirtioBlk.StatusOk, drv.Read((ulong)(i * 8), buf)); // reading in a loop

        Assert.Equal(Ok, (await _f.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = 5, Pause = true })).Status);
        Assert.Equal(2u, (await Cfg(5)).TransStatus);
        for (int i = 0; i < 3; i++) Assert.True(drv.TrySubmit(0, VirtioBlk.TypeIn, (ulong)i, 512, out _));
        var held = Stopwatch.StartNew();
        while (held.ElapsedMilliseconds < 500)
        {
            Assert.False(drv.TryComplete(0, out _, out _));
            await Task.Delay(50);
        }
        Assert.Equal(Ok, (await _f.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = 5, Pause = true })).Status); // already paused
        Assert.Equal(3, drv.InFlight(0));

        Assert.Equal(Ok, (await _f.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = 5, Pause = false })).Status);
        int done = 0;
        while (drv.TryComplete(0, out _, out byte status))
        {
            Assert.Equal(VirtioBlk.StatusOk, status);
            done++;
        }
        Assert.Equal(3, done);
        Assert.Equal(1u, (await Cfg(5)).TransStatus);
        Assert.Equal(NotFound, (await _f.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = 9, Pause = true })).Status);
        Assert.Equal(InvalidArgument, (await _f.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = 5 })).Status);
    }

    [Fact]
    public async Task DPU_25_the_records_and_the_hardware_agree()
    {
        Assert.Equal(Ok, (await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "root" })).Status);
        await DiskWithDriver(5, maxQueue: 4, queues: 4);
        await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 8192 });
        VdiskGetAllPvfCfgResponse soft = await _f.Vdisk.VdiskGetAllPvfCfgAsync(new VdiskGetAllPvfCfgRequest { GetFromHard = false });
        VdiskGetAllPvfCfgResponse hard = await _f.Vdisk.VdiskGetAllPvfCfgAsync(new VdiskGetAllPvfCfgRequest { GetFromHard = true });
        Assert.Equal((Ok, Ok), (soft.Status, hard.Status));
        Assert.Equal([0u, 5u], soft.Cfgs.Select(c => c.Pvfid));
        Assert.Equal(soft.Cfgs, hard.Cfgs); // every field
        Assert.Equal(4u, soft.Cfgs[1].NrActiveQueue);
        Assert.Equal((1u, 0u), (soft.Cfgs[1].TransStatus, soft.Cfgs[0].TransStatus)); // a driver on 5, none on 0
        Assert.Equal(8192ul, hard.Cfgs[1].SectorNum);
        Assert.Equal(InvalidArgument, (await _f.Vdisk.VdiskGetAllPvfCfgAsync(new VdiskGetAllPvfCfgRequest())).Status);
    }
}
