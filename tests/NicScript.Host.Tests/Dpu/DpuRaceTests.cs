using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>DPU-69, DPU-70: races between writers, and readers against a writer, never see half a change.</summary>
public sealed class DpuRaceTests
{
    [Fact]
    public async Task DPU_69_a_delete_raced_against_a_rule_write_ends_one_way_or_the_other()
    {
        await using DpuAgentFixture f = await StartAsync();
        for (int round = 0; round < 100; round++)
        {
            Assert.Equal(0u, (await f.Nic.NewPortAsync(new NewPortRequest { Uuid = $"r{round}", Vport = 3 })).Status);
            Task<PortOpsRep> del = f.Nic.DelPortAsync(new DelPortRequest { Vport = 3 }).ResponseAsync;
            Task<ClassifierOpsRsp> write = f.Traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey(), Action = new RuleAction { Vid = 3, Qid = 0 } }).ResponseAsync;
            PortOpsRep delReply = await del;
            ClassifierOpsRsp writeReply = await write;
            var outcome = (delReply.Status, writeReply.Status);
            Assert.True(outcome is (0, 1) or (5, 0), $"round {round}: DelPort {outcome.Item1}, ClassifierWrite {outcome.Item2}");
            ClassifierListResponse rules = await f.Traffic.ClassifierListAsync(new ClassifierListRequest());
            QueryPortResponse ports = await f.Nic.QueryPortAsync(new QueryPortRequest());
            Assert.All(rules.Rules, r => Assert.Contains(ports.Ports, p => p.Vport == (uint)r.Action.Vid));
            if (writeReply.Status == 0) await f.Traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = 1 });
            if (delReply.Status != 0) await f.Nic.DelPortAsync(new DelPortRequest { Vport = 3 });
        }
    }

    [Fact]
    public async Task DPU_70_a_reader_sees_each_rule_exactly_as_one_write_made_it()
    {
        await using DpuAgentFixture f = await StartAsync();
        await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "a", MaxQpair = 2 });
        await f.Nic.NewPortAsync(new NewPortRequest { Uuid = "b", MaxQpair = 2 });
        var a = new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey { IpType = "ipv4", Dip = { 0x0A000001 }, DipMask = { 0xFFFFFFFF } }, Action = new RuleAction { Vid = 0, Qid = 0 } };
        var b = new ClassifierWriteRequest { KeyIndex = 1, MaskRuleKey = new MaskRuleKey { IpType = "ipv4", Dip = { 0x0A000002 }, DipMask = { 0xFFFFFFFF } }, Action = new RuleAction { Vid = 1, Qid = 1 } };
        await f.Traffic.ClassifierWriteAsync(a);
        using var stop = new CancellationTokenSource();
        int seen = 0;
        Task reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                ClassifierReadResponse r = (await f.Traffic.ClassifierListAsync(new ClassifierListRequest())).Rules.Single();
                bool isA = r.MaskRuleKey.Dip[0] == 0x0A000001 && r.Action.Vid == 0 && r.Action.Qid == 0;
                bool isB = r.MaskRuleKey.Dip[0] == 0x0A000002 && r.Action.Vid == 1 && r.Action.Qid == 1;
                Assert.True(isA || isB, $"a torn rule: {r}");
                seen++;
            }
        });
        for (int i = 0; i < 1000; i++) Assert.Equal(0u, (await f.Traffic.ClassifierWriteAsync(i % 2 == 0 ? b : a)).Status);
        stop.Cancel();
        await reader;
        Assert.True(seen > 0);
    }
}
