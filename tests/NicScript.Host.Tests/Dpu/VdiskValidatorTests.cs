using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Tests.Dpu;

/// <summary>The Vdisk service's rules on their own: a request against a state, no agent, no gRPC, no backing file.</summary>
public sealed class VdiskValidatorTests
{
    private static readonly DpuConfig Config = new();
    private readonly VdiskValidator _v = new(Config);

    private DpuState WithDisk(uint pvfId, ulong sectors)
    {
        uint id = 0;
        DpuState s = _v.VdiskCreate(new VdiskCreateRequest { Name = "disk-3", PvfId = pvfId }, DpuState.Empty(Config), ref id).Next!;
        return sectors == 0 ? s : _v.VdiskUpdate(new VdiskUpdateRequest { PvfId = pvfId, NumberSectors = sectors }, s).Next!;
    }

    [Fact]
    public void VdiskCreate_NameWithSpace_IsInvalidArgument()
    {
        uint id = 0;
        DpuChange c = _v.VdiskCreate(new VdiskCreateRequest { Name = "my disk" }, DpuState.Empty(Config), ref id);
        Assert.Equal(new DpuOutcome(DpuStatus.InvalidArgument, "name must be 1-64 characters of [A-Za-z0-9._-]"), c.Outcome);
    }

    [Fact]
    public void VdiskCreate_PinnedPvfId_AddsDiskWithDefaultsAndStep()
    {
        uint id = 0;
        DpuChange c = _v.VdiskCreate(new VdiskCreateRequest { Name = "disk-3", PvfId = 3 }, DpuState.Empty(Config), ref id);
        Assert.Equal(3u, id);
        var disk = c.Next!.Vdisks[3];
        Assert.Equal((1u, 2u, 128u, 0ul, PvfType.VfType), (disk.MaxQueue, disk.MsixNum, disk.QueueDepth, disk.SectorNum, disk.PortType));
        Assert.Equal(new DpuDeviceStep.AddVdisk(disk), c.Step);
    }

    [Fact]
    public void VdiskUpdate_Shrink_IsInvalidArgument()
    {
        DpuChange c = _v.VdiskUpdate(new VdiskUpdateRequest { PvfId = 3, NumberSectors = 50 }, WithDisk(3, 100));
        Assert.Equal(new DpuOutcome(DpuStatus.InvalidArgument, "number_sectors 50 would shrink the disk (now 100)"), c.Outcome);
    }

    [Fact]
    public void VdiskUpdate_Grow_ResizesTheDisk()
    {
        DpuChange c = _v.VdiskUpdate(new VdiskUpdateRequest { PvfId = 3, NumberSectors = 200 }, WithDisk(3, 100));
        Assert.Equal(new DpuDeviceStep.ResizeVdisk(3, 200), c.Step);
    }

    [Fact]
    public void VdiskPause_AlreadyIdle_IsNothing()
    {
        DpuChange c = VdiskValidator.VdiskPause(new VdiskPauseRequest { PvfId = 3, Pause = false }, WithDisk(3, 0));
        Assert.Equal(DpuOutcome.Ok, c.Outcome);
        Assert.False(c.Changes);
    }
}
