using Google.Protobuf;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Declarative;
using NicScript.Host.Manifests;

namespace NicScript.Host.Tests.Dpu.Declarative;

/// <summary>The differ on its own: a state file against a current state built by hand, no agent.</summary>
public sealed class DpuPlanDifferTests
{
    private static DesiredState File(string sections) => DpuStateFile.Parse("kind: dpu_state\nversion: 1\n" + sections, "dpu.yml");

    private static CurrentState Current(IReadOnlyList<PortCfg>? ports = null, IReadOnlyList<VdiskGetPvfCfg>? vdisks = null) =>
        new(ports ?? [], vdisks ?? [], [], [], [], new EthMacBondGetResponse { Enable = false, OpticalPortCnt = 2 }, [1500u, 1500u]);

    private static PortCfg Port(string uuid, uint vport, uint mtu, uint maxQpair = 1) => new()
    {
        Uuid = uuid, Vport = vport, Mtu = mtu, MaxQpair = maxQpair, QueueDepth = 256, FeatureList = 0x100438028,
        Mac = ByteString.CopyFrom(0x02, 0x4e, 0x53, 0x00, 0x00, (byte)vport),
    };

    [Fact]
    public void Diff_EmptyAgent_AddsEveryObjectInPhase4()
    {
        List<PlanChange> plan = DpuPlanDiffer.Diff(File("ports:\n  - uuid: vm-13\n    mtu: 9000\nmeters:\n  - id: 10\n    rate: 1000\n"), Current(), prune: false, allowReplace: false);
        Assert.Equal(new[] { ("+", "meter", "10", "rate 1000 kbit/s (bytes)"), ("+", "port", "vm-13", "mtu 9000") }, plan.Select(c => (c.Op, c.Kind, c.Key, c.Text)).ToArray());
        Assert.All(plan.SelectMany(c => c.Steps), s => Assert.Equal(4, s.Phase));
        Assert.Equal(new[] { 0, 1 }, plan.SelectMany(c => c.Steps).Select(s => s.Order).ToArray()); // made in section order: meters, then ports
    }

    [Fact]
    public void Diff_SameState_IsNoChange()
    {
        List<PlanChange> plan = DpuPlanDiffer.Diff(File("ports:\n  - uuid: vm-13\n    mtu: 9000\n"), Current(ports: [Port("vm-13", 13, 9000)]), prune: false, allowReplace: false);
        Assert.Empty(plan);
    }

    [Fact]
    public void Diff_MaxQpairDecrease_WaitsForRulesInPhase6()
    {
        List<PlanChange> plan = DpuPlanDiffer.Diff(File("ports:\n  - uuid: vm-13\n    max_qpair: 2\n"), Current(ports: [Port("vm-13", 13, 1500, maxQpair: 4)]), prune: false, allowReplace: false);
        PlanChange change = Assert.Single(plan);
        Assert.Equal(("~", "max_qpair 4 -> 2"), (change.Op, change.Text));
        Assert.Equal(("SetPortCfg", 6), (change.Steps.Single().Rpc, change.Steps.Single().Phase));
    }

    [Fact]
    public void Diff_PrunedPort_IsDeletedInPhase3OnlyWithPrune()
    {
        DesiredState d = File("ports: []\n");
        Assert.Empty(DpuPlanDiffer.Diff(d, Current(ports: [Port("vm-13", 13, 1500)]), prune: false, allowReplace: false));
        PlanChange change = Assert.Single(DpuPlanDiffer.Diff(d, Current(ports: [Port("vm-13", 13, 1500)]), prune: true, allowReplace: false));
        Assert.Equal(("-", "vm-13", "vport 13 (prune)", "DelPort", 3), (change.Op, change.Key, change.Text, change.Steps.Single().Rpc, change.Steps.Single().Phase));
    }

    [Fact]
    public void Diff_VdiskShrink_IsAProblemAtItsLine()
    {
        var disk = new VdiskGetPvfCfg { Name = "disk-3", Pvfid = 3, MaxQueue = 1, MsixNum = 2, QueueDepth = 128, SectorNum = 4096 };
        var e = Assert.Throws<ManifestException>(() => DpuPlanDiffer.Diff(File("vdisks:\n  - name: disk-3\n    sectors: 2048\n"), Current(vdisks: [disk]), prune: false, allowReplace: false));
        ManifestProblem p = Assert.Single(e.Problems);
        Assert.Equal(5, p.At.Line);
        Assert.Equal("vdisk disk-3: size 1MiB is smaller than the disk's 2MiB; a vdisk only grows", p.Message);
    }
}
