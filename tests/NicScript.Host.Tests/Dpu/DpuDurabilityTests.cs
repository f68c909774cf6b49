using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>DPU-62, 64…68: acknowledged changes survive a restart; the writer serialises concurrent clients.</summary>
public sealed class DpuDurabilityTests
{
    [Fact]
    public async Task DPU_62_and_64_a_restart_on_the_same_state_has_every_acknowledged_change_and_replays_answer_ok()
    {
        using var dir = new TempDir();
        string before;
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
        {
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "a", Mtu = 9000 })).Status);
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", Vport = 7 })).Status);
            Assert.Equal(0u, (await a.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mtu = 4000 })).Status);
            Assert.Equal(0u, (await a.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "d", PvfId = 3 })).Status);
            Assert.Equal(0u, (await a.Vdisk.VdiskUpdateAsync(new VdiskUpdateRequest { PvfId = 3, NumberSectors = 2048 })).Status);
            Assert.Equal(0u, (await a.Vdisk.VdiskPauseAsync(new VdiskPauseRequest { PvfId = 3, Pause = true })).Status);
            Assert.Equal(0u, (await a.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 100 })).Status);
            Assert.Equal(0u, (await a.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 4, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 7, Qid = 0, MeterId = 5 } })).Status);
            Assert.Equal(0u, (await a.Traffic.ProcSwitchAsync(new ProcSwitchRequest { SrcPfid = 0, DestPfid = 1 })).Status);
            Assert.Equal(0u, (await a.Optical.EthMacSetMtuAsync(new EthMacSetMtuRequest { PortId = 1, Mtu = 9000 })).Status);
            Assert.Equal(0u, (await a.Optical.EthMacBondSetAsync(new EthMacBondSetRequest { Enable = true, BondOpts = { new BondOpts { OptName = "mode", Value = "active-backup" } } })).Status);
            before = await Snapshot(a);
        }
        await using DpuAgentFixture b = await StartAsync(stateDir: dir);
        Assert.Equal(before, await Snapshot(b));
        Assert.Equal(2u, (await b.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = 3 })).TransStatus);
        Assert.Equal(1u, (await b.Meter.MeterGetAsync(new MeterGetRequest { Id = 5 })).RefCnt);
        Assert.True(b.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(7), out _)); // functions rebuilt from the rows
        PortOpsRep replay = await b.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", Vport = 7 });
        Assert.Equal((0u, 7u), (replay.Status, replay.Vport));
        Assert.Equal(0u, (await b.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 100 })).Status);
        Assert.Equal(3u, (await b.Vdisk.VdiskCreateAsync(new VdiskCreateRequest { Name = "d", PvfId = 3 })).PvfId);
    }

    [Fact]
    public async Task Changes_that_queue_up_behind_a_commit_share_the_next_one_and_all_survive_a_restart()
    {
        using var dir = new TempDir();
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
        {
            using var hold = new ManualResetEventSlim();
            using var holding = new SemaphoreSlim(0);
            a.Agent.Store.BeforeCommit = () =>
            {
                if (hold.IsSet) return;
                holding.Release();
                hold.Wait(TimeSpan.FromSeconds(30)); // the writer waits here with the first change
            };
            long before = a.Agent.Store.Commits;
            Task<MeterOpsRsp> first = a.Meter.MeterAddAsync(new MeterAddRequest { Id = 1000, Rate = 1 }).ResponseAsync;
            Assert.True(await holding.WaitAsync(TimeSpan.FromSeconds(30)));
            var queued = Enumerable.Range(0, 50).Select(i => a.Meter.MeterAddAsync(new MeterAddRequest { Id = (uint)i, Rate = 1 }).ResponseAsync).ToList();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (a.Agent.Pending < 50 && DateTime.UtcNow < deadline) await Task.Delay(5); // all fifty wait behind the first commit
            Assert.Equal(50, a.Agent.Pending);
            hold.Set();
            Assert.Equal(0u, (await first).Status);
            Assert.All(await Task.WhenAll(queued), r => Assert.Equal(0u, r.Status));
            Assert.Equal(2, a.Agent.Store.Commits - before); // the first, then the fifty in one transaction
        }
        await using DpuAgentFixture b = await StartAsync(stateDir: dir);
        Assert.Equal(51, (await b.Meter.MeterListAsync(new MeterListRequest())).Meters.Count);
    }

    private static async Task<string> Snapshot(DpuAgentFixture f) => string.Join('\n',
        (await f.Nic.QueryPortAsync(new QueryPortRequest())).ToString(), (await f.Vdisk.VdiskGetAllPvfCfgAsync(new VdiskGetAllPvfCfgRequest { GetFromHard = false })).ToString(),
        (await f.Meter.MeterListAsync(new MeterListRequest())).ToString(), (await f.Traffic.ClassifierListAsync(new ClassifierListRequest())).ToString(),
        (await f.Traffic.ProcSwitchListAsync(new ProcSwitchListRequest())).ToString(), (await f.Optical.EthMacBondGetAsync(new EthMacBondGetRequest())).ToString(),
        (await f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 0 })).ToString(), (await f.Optical.EthMacGetMtuAsync(new EthMacGetMtuRequest { PortId = 1 })).ToString());

    [Fact]
    public async Task DPU_65_a_failing_commit_is_unavailable_and_changes_nothing()
    {
        await using DpuAgentFixture f = await StartAsync();
        f.Agent.Store.FailCommits = true;
        Assert.Equal(9u, (await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "z" })).Status);
        Assert.Empty((await f.Nic.QueryPortAsync(new QueryPortRequest())).Ports);
        Assert.Equal(16u, (await f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
        Assert.False(f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out _));
        f.Agent.Store.FailCommits = false;
        Assert.Equal(0u, (await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "z" })).Status);
    }

    [Fact]
    public async Task A_rule_to_an_optical_port_is_stored_and_a_machine_without_that_port_refuses_the_state()
    {
        using var dir = new TempDir();
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
        {
            Assert.Equal(0u, (await a.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 100 })).Status);
            var action = new RuleAction { Vid = DpuSwitch.OpticalBase + 1, Qid = 2, MeterId = 5 };
            Assert.Equal(0u, (await a.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 4, MaskRuleKey = new MaskRuleKey(), Action = action })).Status);
        }
        await using (DpuAgentFixture b = await StartAsync(stateDir: dir))
        {
            ClassifierReadResponse rule = await b.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = 4 });
            Assert.Equal((0x20001, 2, 5u), (rule.Action.Vid, rule.Action.Qid, rule.Action.MeterId));
            Assert.Equal(1u, (await b.Meter.MeterGetAsync(new MeterGetRequest { Id = 5 })).RefCnt);
        }
        var e = await Assert.ThrowsAsync<UserErrorException>(() => StartAsync(new DpuConfig { OpticalPorts = 1 }, dir));
        Assert.Equal("rule 4 is stored with optical port 1 as its target but the machine has 1 optical ports", e.Message);
    }

    [Fact]
    public async Task DPU_66_a_state_that_does_not_fit_the_machine_is_refused_naming_the_object()
    {
        using var dir = new TempDir();
        await using (DpuAgentFixture a = await StartAsync(stateDir: dir))
            Assert.Equal(0u, (await a.Nic.NewPortAsync(new NewPortRequest { Uuid = "x", Vport = 12 })).Status);
        var e = await Assert.ThrowsAsync<UserErrorException>(() => StartAsync(new DpuConfig { ElasticNicSlots = 8 }, dir));
        Assert.Equal("vport 12 is stored but the machine has 8 elastic NIC slots", e.Message);
    }

    [Fact]
    public async Task DPU_67_sixteen_clients_race_for_four_slots()
    {
        await using DpuAgentFixture f = await StartAsync(new DpuConfig { ElasticNicSlots = 4 });
        PortOpsRep[] replies = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => f.Nic.NewPortAsync(new NewPortRequest { Uuid = $"c{i}" }).ResponseAsync));
        Assert.Equal(4, replies.Count(r => r.Status == 0));
        Assert.Equal(4, replies.Where(r => r.Status == 0).Select(r => r.Vport).Distinct().Count());
        Assert.Equal(12, replies.Count(r => r.Status == 3));
        Assert.Equal(0u, (await f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
    }

    [Fact]
    public async Task DPU_68_two_adds_of_one_meter_one_wins()
    {
        await using DpuAgentFixture f = await StartAsync();
        MeterOpsRsp[] r = await Task.WhenAll(f.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 1000 }).ResponseAsync, f.Meter.MeterAddAsync(new MeterAddRequest { Id = 5, Rate = 2000 }).ResponseAsync);
        Assert.Equal([0u, 2u], r.Select(x => x.Status).Order());
        uint won = r[0].Status == 0 ? 1000u : 2000u;
        Assert.Equal(won, (await f.Meter.MeterGetAsync(new MeterGetRequest { Id = 5 })).Rate);
    }
}
