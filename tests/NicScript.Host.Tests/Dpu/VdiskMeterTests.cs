using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Devices.VirtioBlk;
using NicScript.Driver.Pci;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>Checklist DPU-17…21, 23, 26 (virtual disks, with their virtio-blk functions) and DPU-28…33 (meters).</summary>
public sealed class VdiskMeterTests : IAsyncLifetime
{
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync() => _f = await StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    private async Task<uint> Free() => (await _f.Vdisk.VdiskGetPvfCapabilityAsync(new VdiskGetPvfCapabilityRequest())).FreePvfCnt;

    [Fact]
    public async Task DPU_17_a_new_disk_has_the_defaults()
    {
        VdiskGetPvfCapabilityResponse cap = await _f.Vdisk.VdiskGetPvfCapabilityAsync(new VdiskGetPvfCapabilityRequest());
        Assert.Equal((16u, 16u), (cap.TotalPvfCnt, cap.FreePvfCnt));
        VdiskOpsRsp r = await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "root" });
        Assert.Equal((Ok, 0u), (r.Status, r.PvfId));
        VdiskGetPvfCfgResponse c = await _f.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = 0 });
        Assert.Equal((true, "root", 1u, 128u, 2u, 0ul, 0u, 0u, PvfType.PfType), (c.Enable, c.Name, c.MaxQueue, c.QueueDepth, c.MsixNum, c.SectorNum, c.NrActiveQueue, c.TransStatus, c.PortType));
        Assert.Equal(15u, await Free());
        // the disk is a virtio-blk function on the bus, capacity 0, and GET_ID answers its name
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.VdiskAddress(0), out PciFunction f));
        Assert.Equal(((ushort)0x1af4, (ushort)0x1042), (f.VendorId, f.DeviceId));
        VirtioBlkDriver drv = VirtioBlkDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner("host", 8 << 20));
        Assert.Equal(0ul, drv.Capacity);
        Assert.Equal("root", drv.GetId());
    }

    [Fact]
    public async Task DPU_18_a_disk_with_every_field_given()
    {
        VdiskOpsRsp r = await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "data", PvfId = 5, MaxQueue = 4, QueueDepth = 256, Msix = 5 });
        Assert.Equal((Ok, 5u), (r.Status, r.PvfId));
        VdiskGetPvfCfgResponse c = await _f.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = 5 });
        Assert.Equal((4u, 256u, 5u, PvfType.VfType), (c.MaxQueue, c.QueueDepth, c.MsixNum, c.PortType));
    }

    [Fact]
    public async Task DPU_19_replays_and_conflicts()
    {
        var create = new VdiskCreateRequest { Name = "data", PvfId = 5, MaxQueue = 4, QueueDepth = 256, Msix = 5 };
        await _f.Vdisk.VdiskCreateAsync(create);
        uint free = await Free();
        VdiskOpsRsp again = await _f.Vdisk.VdiskCreateAsync(create);
        Assert.Equal((Ok, 5u, free), (again.Status, again.PvfId, await Free()));
        VdiskOpsRsp other = await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "data", MaxQueue = 2 });
        Assert.Equal((AlreadyExists, 5u), (other.Status, other.PvfId));
        VdiskOpsRsp slot = await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "other", PvfId = 5 });
        Assert.Equal((AlreadyExists, 5u), (slot.Status, slot.PvfId));
    }

    [Fact]
    public async Task DPU_20_bad_creates_are_invalid_and_change_nothing()
    {
        foreach (VdiskCreateRequest bad in new[]
        {
            new VdiskCreateRequest(), new VdiskCreateRequest { Name = "a b" }, new VdiskCreateRequest { Name = new string('n', 65) },
            new VdiskCreateRequest { Name = "q", MaxQueue = 0 }, new VdiskCreateRequest { Name = "q", MaxQueue = 17 }, new VdiskCreateRequest { Name = "q", QueueDepth = 100 },
            new VdiskCreateRequest { Name = "q", Msix = 0 }, new VdiskCreateRequest { Name = "q", Msix = 2049 }, new VdiskCreateRequest { Name = "q", PvfId = 16 },
        })
            Assert.Equal(InvalidArgument, (await _f.Vdisk.VdiskCreateAsync(bad)).Status);
        Assert.Equal(16u, await Free());
    }

    [Fact]
    public async Task DPU_21_a_full_pool_is_no_resource_until_a_destroy()
    {
        await using DpuAgentFixture small = await StartAsync(new DpuConfig { VdiskSlots = 2 });
        Assert.Equal(Ok, (await small.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "a" })).Status);
        Assert.Equal(Ok, (await small.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "b" })).Status);
        Assert.Equal(NoResource, (await small.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "c" })).Status);
        Assert.Equal(Ok, (await small.Vdisk.VdiskDestroyAsync(new VdiskDestroyRequest { PvfId = 0 })).Status);
        Assert.Equal(Ok, (await small.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "c" })).Status);
    }

    [Fact]
    public async Task DPU_23_resizes_only_grow_within_the_largest_disk()
    {
        await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "data", PvfId = 5 });
        Assert.Equal(Ok, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 2097152 })).Status);
        Assert.Equal(Ok, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 2097152 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 1024 })).Status);
        Assert.Equal(2097152ul, (await _f.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = 5 })).SectorNum);
        Assert.Equal(InvalidArgument, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 4294967297 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5 })).Status);
        Assert.Equal(NotFound, (await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 9, NumberSectors = 100 })).Status);
    }

    [Fact]
    public async Task DPU_26_destroy_frees_the_slot_and_a_new_disk_starts_empty()
    {
        await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "data", PvfId = 5 });
        await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 4096 });
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.VdiskAddress(5), out PciFunction before));
        VirtioBlkDriver.BringUp(before, _f.Machine.Dma, _f.Machine.Dma.CreateOwner("old", 8 << 20)).Write(7, Enumerable.Repeat((byte)0xAB, 512).ToArray());
        VdiskOpsRsp d = await _f.Vdisk.VdiskDestroyAsync(new VdiskDestroyRequest { PvfId = 5 });
        Assert.Equal((Ok, 5u), (d.Status, d.PvfId));
        VdiskGetPvfCfgResponse c = await _f.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = 5 });
        Assert.Equal((NotFound, false), (c.Status, c.Enable));
        Assert.Equal(16u, await Free());
        Assert.False(_f.Machine.Pci.TryGet(DpuDevice.VdiskAddress(5), out _)); // hot-removed
        Assert.False(File.Exists(_f.Agent.VdiskBackingFile(5))); // and its data deleted
        Assert.Equal(NotFound, (await _f.Vdisk.VdiskDestroyAsync(new VdiskDestroyRequest { PvfId = 5 })).Status);
        VdiskOpsRsp again = await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "data" });
        Assert.Equal(0ul, (await _f.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = again.PvfId })).SectorNum);
        // a disk made again in the slot that held data reads zeros
        await _f.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "again", PvfId = 5 });
        await _f.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 5, NumberSectors = 4096 });
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.VdiskAddress(5), out PciFunction f));
        var sector = new byte[512];
        Assert.Equal(VirtioBlk.StatusOk, VirtioBlkDriver.BringUp(f, _f.Machine.Dma, _f.Machine.Dma.CreateOwner("host", 8 << 20)).Read(7, sector));
        Assert.All(sector, b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task DPU_28_a_new_meter()
    {
        MeterCapabilityResponse cap = await _f.Meter.MeterCapabilityAsync(new MeterCapabilityRequest());
        Assert.Equal((64u, 64u), (cap.Total, cap.Free));
        MeterOpsRsp r = await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 });
        Assert.Equal((Ok, 10u), (r.Status, r.Id));
        MeterGetResponse m = await _f.Meter.MeterGetAsync(new MeterGetRequest { Id = 10 });
        Assert.Equal((8000u, 0u, 0ul, 0ul, 0u), (m.Rate, m.Type, m.PassPackets, m.DropPackets, m.RefCnt));
        Assert.Equal(63u, (await _f.Meter.MeterCapabilityAsync(new MeterCapabilityRequest())).Free);
    }

    [Fact]
    public async Task DPU_29_meter_replays_conflicts_and_the_list()
    {
        await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 });
        Assert.Equal(Ok, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 })).Status);
        Assert.Equal(63u, (await _f.Meter.MeterCapabilityAsync(new MeterCapabilityRequest())).Free);
        Assert.Equal(AlreadyExists, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 9000 })).Status);
        Assert.Equal(8000u, (await _f.Meter.MeterGetAsync(new MeterGetRequest { Id = 10 })).Rate);
        Assert.Equal(Ok, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 11, Rate = 1000, Type = 1 })).Status);
        MeterListResponse list = await _f.Meter.MeterListAsync(new MeterListRequest());
        Assert.Equal([(10u, 8000u, 0u), (11u, 1000u, 1u)], list.Meters.Select(m => (m.Id, m.Rate, m.Type)));
    }

    [Fact]
    public async Task DPU_30_bad_meter_adds()
    {
        foreach (MeterAddRequest bad in new[] { new MeterAddRequest { Id = 12, Rate = 0 }, new MeterAddRequest { Id = 12 }, new MeterAddRequest { Rate = 5 }, new MeterAddRequest { Id = 12, Rate = 5, Type = 2 } })
            Assert.Equal(InvalidArgument, (await _f.Meter.MeterAddAsync(bad)).Status);
        Assert.Equal(64u, (await _f.Meter.MeterCapabilityAsync(new MeterCapabilityRequest())).Free);
    }

    [Fact]
    public async Task DPU_31_a_full_meter_table()
    {
        for (uint i = 0; i < 64; i++) Assert.Equal(Ok, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = i, Rate = 1 })).Status);
        Assert.Equal(NoResource, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 999, Rate = 1 })).Status);
        await _f.Meter.MeterDelAsync(new MeterDelRequest { Id = 3 });
        Assert.Equal(1u, (await _f.Meter.MeterCapabilityAsync(new MeterCapabilityRequest())).Free);
        Assert.Equal(Ok, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 999, Rate = 1 })).Status);
    }

    [Fact]
    public async Task DPU_32_meter_updates()
    {
        await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 });
        Assert.Equal(Ok, (await _f.Meter.MeterUpdateAsync(new MeterUpdateRequest { Id = 10, Rate = 16000 })).Status);
        MeterGetResponse m = await _f.Meter.MeterGetAsync(new MeterGetRequest { Id = 10 });
        Assert.Equal((16000u, 0u), (m.Rate, m.Type));
        Assert.Equal(Ok, (await _f.Meter.MeterUpdateAsync(new MeterUpdateRequest { Id = 10, Rate = 16000 })).Status);
        Assert.Equal(NotFound, (await _f.Meter.MeterUpdateAsync(new MeterUpdateRequest { Id = 77, Rate = 5 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Meter.MeterUpdateAsync(new MeterUpdateRequest { Id = 10, Rate = 0 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Meter.MeterUpdateAsync(new MeterUpdateRequest { Id = 10 })).Status);
    }

    [Fact]
    public async Task DPU_33_a_meter_a_rule_uses_is_in_use()
    {
        await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 10, Rate = 8000 });
        await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "a" });
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 0, Qid = 0, MeterId = 10 } })).Status);
        Assert.Equal(1u, (await _f.Meter.MeterGetAsync(new MeterGetRequest { Id = 10 })).RefCnt);
        Assert.Equal(InUse, (await _f.Meter.MeterDelAsync(new MeterDelRequest { Id = 10 })).Status);
        await _f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 1 });
        Assert.Equal(0u, (await _f.Meter.MeterGetAsync(new MeterGetRequest { Id = 10 })).RefCnt);
        Assert.Equal(Ok, (await _f.Meter.MeterDelAsync(new MeterDelRequest { Id = 10 })).Status);
        Assert.Equal(NotFound, (await _f.Meter.MeterDelAsync(new MeterDelRequest { Id = 10 })).Status);
        Assert.Equal(NotFound, (await _f.Meter.MeterGetAsync(new MeterGetRequest { Id = 10 })).Status);
    }
}
