using Google.Protobuf;
using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>Checklist DPU-01…DPU-11, 13–15 of reference/dpu.md through a real gRPC client.</summary>
public sealed class ElasticNicTests : IAsyncLifetime
{
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync() => _f = await StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    private static ByteString Mac(params byte[] b) => ByteString.CopyFrom(b);

    private async Task Port03()
    {
        Assert.Equal(0u, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "a" })).Status);
        PortOpsRep r = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", Vport = 7, Mtu = 9000, MaxQpair = 4, QueueDepth = 1024, Mac = Mac(2, 0, 0, 0, 0, 7), FeatureList = 0x100438028 });
        Assert.Equal((0u, 7u), (r.Status, r.Vport));
    }

    [Fact]
    public async Task DPU_01_a_fresh_agent_has_16_free_elastic_nic_slots()
    {
        GetPortCapabilityResponse c = await _f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest());
        Assert.Equal((0u, 16u, 16u), (c.Status, c.TotalPvfCnt, c.FreePvfCnt));
    }

    [Fact]
    public async Task DPU_02_a_new_port_has_the_defaults_and_a_virtio_net_function_appears()
    {
        PortOpsRep r = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "a" });
        Assert.Equal((0u, 0u), (r.Status, r.Vport));
        GetPortCfgResponse c = await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 0 });
        Assert.Equal((0u, true, "a", 1500u, 1u, 256u, 0x100438028ul, 0u), (c.Status, c.Enable, c.Uuid, c.Mtu, c.MaxQpair, c.QueueDepth, c.FeatureList, c.ActiveQpair));
        Assert.Equal(Mac(0x02, 0x4e, 0x53, 0, 0, 0), c.Mac);
        Assert.Equal(15u, (await _f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
        Assert.True(_f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(0), out var fn));
        Assert.Equal((0x1af4u, 0x1041u), (fn.Config.Read(0, 2), fn.Config.Read(2, 2)));
    }

    [Fact]
    public async Task DPU_03_a_port_with_every_field_given_is_listed_in_order()
    {
        await Port03();
        QueryPortResponse q = await _f.Nic.QueryPortAsync(new QueryPortRequest());
        Assert.Equal([0u, 7u], q.Ports.Select(p => p.Vport));
        PortCfg p7 = q.Ports[1];
        Assert.Equal((true, 9000u, 4u, 1024u, 0x100438028ul, "b"), (p7.Enable, p7.Mtu, p7.MaxQpair, p7.QueueDepth, p7.FeatureList, p7.Uuid));
        Assert.Equal(Mac(2, 0, 0, 0, 0, 7), p7.Mac);
    }

    [Fact]
    public async Task DPU_04_an_identical_new_port_is_a_replay_and_a_different_one_already_exists()
    {
        await Port03();
        PortOpsRep again = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", Vport = 7, Mtu = 9000, MaxQpair = 4, QueueDepth = 1024, Mac = Mac(2, 0, 0, 0, 0, 7), FeatureList = 0x100438028 });
        Assert.Equal((0u, 7u), (again.Status, again.Vport));
        Assert.Equal(14u, (await _f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
        PortOpsRep other = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", Mtu = 1500 });
        Assert.Equal((AlreadyExists, 7u), (other.Status, other.Vport));
        Assert.Equal(9000u, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 })).Mtu);
    }

    [Fact]
    public async Task DPU_05_taken_slots_and_bad_uuids_are_refused()
    {
        await Port03();
        PortOpsRep taken = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "c", Vport = 7 });
        Assert.Equal((AlreadyExists, 7u), (taken.Status, taken.Vport));
        Assert.Equal(InvalidArgument, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "c", Vport = 16 })).Status);
        foreach (NewPortRequest bad in new[] { new NewPortRequest(), new NewPortRequest { Uuid = "" }, new NewPortRequest { Uuid = new string('x', 65) }, new NewPortRequest { Uuid = "a b" } })
            Assert.Equal(InvalidArgument, (await _f.Nic.NewPortAsync(bad)).Status);
        Assert.Equal(14u, (await _f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
    }

    [Fact]
    public async Task DPU_06_mac_rules()
    {
        await Port03();
        foreach (ByteString bad in new[] { Mac(1, 2, 3, 4, 5), Mac(0, 0, 0, 0, 0, 0), Mac(1, 0, 0x5e, 0, 0, 1), Mac(0xff, 0xff, 0xff, 0xff, 0xff, 0xff) })
            Assert.Equal(InvalidArgument, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "m", Mac = bad })).Status);
        Assert.Equal(AlreadyExists, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "m", Mac = Mac(2, 0, 0, 0, 0, 7) })).Status);
        Assert.Equal(Ok, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "m", Mac = Mac(6, 0, 0, 0, 0, 1) })).Status);
    }

    [Fact]
    public async Task DPU_07_ranges()
    {
        foreach (NewPortRequest bad in new[]
        {
            new NewPortRequest { Uuid = "r", Mtu = 67 }, new NewPortRequest { Uuid = "r", Mtu = 9217 }, new NewPortRequest { Uuid = "r", MaxQpair = 0 },
            new NewPortRequest { Uuid = "r", MaxQpair = 17 }, new NewPortRequest { Uuid = "r", QueueDepth = 0 }, new NewPortRequest { Uuid = "r", QueueDepth = 300 },
            new NewPortRequest { Uuid = "r", QueueDepth = 8192 },
        })
            Assert.Equal(InvalidArgument, (await _f.Nic.NewPortAsync(bad)).Status);
        Assert.Equal(Ok, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "lo", Mtu = 68 })).Status);
        Assert.Equal(Ok, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "hi", Mtu = 9216 })).Status);
    }

    [Fact]
    public async Task DPU_08_features()
    {
        Assert.Equal(InvalidArgument, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "f", FeatureList = 0x100438028 & ~(1UL << 32) })).Status);
        Assert.Equal(Unsupported, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "f", FeatureList = 0x100438028 | 1UL << 60 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "f", MaxQpair = 4, FeatureList = 0x100438028 & ~(1UL << 22) })).Status);
    }

    [Fact]
    public async Task DPU_09_a_full_pool_is_no_resource_until_a_delete()
    {
        await using DpuAgentFixture small = await StartAsync(new DpuConfig { ElasticNicSlots = 4 });
        for (int i = 0; i < 4; i++) Assert.Equal(Ok, (await small.Nic.NewPortAsync(new NewPortRequest { Uuid = $"p{i}" })).Status);
        Assert.Equal(NoResource, (await small.Nic.NewPortAsync(new NewPortRequest { Uuid = "e" })).Status);
        Assert.Equal(Ok, (await small.Nic.DelPortAsync(new DelPortRequest { Vport = 2 })).Status);
        Assert.Equal(1u, (await small.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
        PortOpsRep e = await small.Nic.NewPortAsync(new NewPortRequest { Uuid = "e" });
        Assert.Equal((Ok, 2u), (e.Status, e.Vport));
        Assert.Equal(0u, (await small.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
    }

    [Fact]
    public async Task DPU_10_set_port_cfg_changes_only_what_is_given()
    {
        await Port03();
        Assert.Equal((Ok, 7u), ((await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mtu = 1500 })).Status, 7u));
        GetPortCfgResponse c = await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 });
        Assert.Equal((1500u, 4u, 1024u, "b"), (c.Mtu, c.MaxQpair, c.QueueDepth, c.Uuid));
        Assert.Equal(1500, DeviceMtu(7)); // the function's config space has the new MTU at once
        Assert.Equal(Ok, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mac = Mac(6, 0, 0, 0, 0, 0x77) })).Status);
        Assert.Equal(new byte[] { 6, 0, 0, 0, 0, 0x77 }, DpuDeviceOf().ElasticNic(7)!.Model.Mac);
        c = await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 });
        Assert.Equal(Ok, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7 })).Status);
        Assert.Equal(c, await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 }));
    }

    private DpuDevice DpuDeviceOf() => _f.Agent.Device;

    private int DeviceMtu(uint vport) => DpuDeviceOf().ElasticNic(vport)!.Model.Mtu;

    [Fact]
    public async Task DPU_11_set_port_cfg_errors_change_nothing()
    {
        await Port03();
        await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mtu = 1500 });
        Assert.Equal(NotFound, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 3 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest())).Status);
        Assert.Equal(InvalidArgument, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mtu = 9000, Mac = Mac(1, 2, 3, 4, 5) })).Status);
        Assert.Equal(1500u, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 })).Mtu);
        Assert.Equal(AlreadyExists, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, Mac = Mac(0x02, 0x4e, 0x53, 0, 0, 0) })).Status);
    }

    [Fact]
    public async Task DPU_13_get_port_cfg_of_a_free_slot_is_not_found_with_zeros()
    {
        GetPortCfgResponse c = await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 5 });
        Assert.Equal((NotFound, false, 5u, 0u, ""), (c.Status, c.Enable, c.Vport, c.Mtu, c.Uuid));
        Assert.True(c.HasMtu && c.HasUuid && c.HasMaxQpair); // every field set, zeros included
        Assert.Equal(InvalidArgument, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest())).Status);
    }

    [Fact]
    public async Task DPU_14_del_port_removes_the_function_and_again_is_not_found()
    {
        await Port03();
        PortOpsRep d = await _f.Nic.DelPortAsync(new DelPortRequest { Vport = 7 });
        Assert.Equal((Ok, 7u), (d.Status, d.Vport));
        Assert.Equal(NotFound, (await _f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = 7 })).Status);
        Assert.Equal(15u, (await _f.Nic.GetPortCapabilityAsync(new GetPortCapabilityRequest())).FreePvfCnt);
        Assert.False(_f.Machine.Pci.TryGet(DpuDevice.ElasticNicAddress(7), out _));
        Assert.Equal(NotFound, (await _f.Nic.DelPortAsync(new DelPortRequest { Vport = 7 })).Status);
        Assert.Equal(InvalidArgument, (await _f.Nic.DelPortAsync(new DelPortRequest())).Status);
    }

    [Fact]
    public async Task DPU_15_ports_that_rules_target_are_in_use()
    {
        await Port03();
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 0, Qid = 0 } })).Status);
        Assert.Equal(Ok, (await _f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 2, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 7, Qid = 3 } })).Status);
        Assert.Equal(InUse, (await _f.Nic.DelPortAsync(new DelPortRequest { Vport = 0 })).Status);
        Assert.Equal(InUse, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, MaxQpair = 3 })).Status);
        await _f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 1 });
        await _f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 2 });
        Assert.Equal(Ok, (await _f.Nic.DelPortAsync(new DelPortRequest { Vport = 0 })).Status);
        Assert.Equal(Ok, (await _f.Nic.SetPortCfgAsync(new SetPortCfgRequest { Vport = 7, MaxQpair = 3 })).Status);
    }
}
