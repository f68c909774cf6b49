using NicScript.Dpu.V1;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>Checklist DPU-74…78: <c>nicscript plan</c> and <c>apply</c> of manifests/dpu.yml against a real agent, with the
/// agent's audit log as the record of which changing rpcs arrived, in which order.</summary>
public sealed class DpuApplyTests : IAsyncLifetime
{
    private sealed class Audit : ILogEventSink
    {
        public readonly List<string> Events = new();
        public void Emit(LogEvent e)
        {
            lock (Events) Events.Add(e.RenderMessage().Replace("\"", "", StringComparison.Ordinal)); // strings unquoted, as the console shows them
        }

        public List<string> Changes()
        {
            lock (Events) return [.. Events];
        }
    }

    private readonly Audit _audit = new();
    private readonly TempDir _dir = new();
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync() => _f = await StartAsync(audit: new LoggerConfiguration().WriteTo.Sink(_audit).CreateLogger());

    public async Task DisposeAsync()
    {
        await _f.DisposeAsync();
        _dir.Dispose();
    }

    private static string Example => Path.Combine(Repo.Root, "manifests", "dpu.yml");

    private async Task<(int Exit, string Out, string Err)> Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(output) });
        int exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, output, error), [.. args, "--target", _f.Target]);
        return (exit, output.ToString(), error.ToString());
    }

    private static string[] Lines(string text, string op) => text.Split('\n').Where(l => l.StartsWith(op.PadLeft(3) + " ", StringComparison.Ordinal)).ToArray();

    /// <summary>The file with <paramref name="edit"/> applied, written beside the test.</summary>
    private string Edited(Func<string, string> edit) => _dir.Write($"dpu-{Guid.NewGuid():n}.yml", edit(File.ReadAllText(Example)));

    [Fact]
    public async Task DPU_74_plan_lists_what_apply_would_do_and_changes_nothing()
    {
        var (exit, output, _) = await Cli("plan", Example);
        Assert.Equal(0, exit);
        Assert.Equal(7, Lines(output, "+").Length); // 2 ports, the vdisk, the meter, 2 rules, the switch
        Assert.Equal(3, Lines(output, "~").Length); // the bond, two MTUs
        Assert.Contains("Plan: 7 to add, 3 to change, 0 to replace, 0 to destroy.", output);
        Assert.DoesNotContain(_audit.Changes(), e => e.StartsWith("dpu ", StringComparison.Ordinal));
        Assert.Empty((await _f.Nic.QueryPortAsync(new QueryPortRequest())).Ports);
    }

    [Fact]
    public async Task DPU_75_apply_runs_in_dependency_order_and_then_plan_has_no_changes()
    {
        Assert.Equal(0, (await Cli("apply", Example)).Exit);
        List<string> log = _audit.Changes();
        int At(string prefix) => log.FindIndex(e => e.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(At("dpu MeterAdd id=10") < At("dpu ClassifierWrite key_index=100"));
        Assert.True(At("dpu NewPort uuid=vm-42-eth0") < At("dpu ClassifierWrite key_index=100"));
        Assert.True(At("dpu VdiskCreate name=vm-42-root") < At("dpu VdiskUpdate"));
        Assert.True(At("dpu EthMacBondSet") < At("dpu EthMacSetMtu"));
        Assert.All(log.Where(e => e.StartsWith("dpu ", StringComparison.Ordinal)), e => Assert.Contains("→ OK", e));
        ClassifierReadResponse rule = await _f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = 100 });
        Assert.Equal((3, 1, 10u, 0x20000, 0x30000, 443, 6), (rule.Action.Vid, rule.Action.Qid, rule.Action.MeterId, rule.MaskRuleKey.Vid, rule.MaskRuleKey.VidMask, rule.MaskRuleKey.Dl4Port, rule.MaskRuleKey.Ipprotocol));
        Assert.Equal(41943040ul, (await _f.Vdisk.VdiskGetAllPvfCfgAsync(new VdiskGetAllPvfCfgRequest { GetFromHard = false })).Cfgs.Single().SectorNum);
        var (exit, output, _) = await Cli("plan", Example);
        Assert.Equal((0, "No changes.\n"), (exit, output));
    }

    [Fact]
    public async Task DPU_76_a_second_apply_sends_no_changing_rpc()
    {
        Assert.Equal(0, (await Cli("apply", Example)).Exit);
        int before = _audit.Changes().Count;
        var (exit, output, _) = await Cli("apply", Example);
        Assert.Equal((0, "No changes.\n"), (exit, output));
        Assert.Equal(before, _audit.Changes().Count);
    }

    [Fact]
    public async Task DPU_77_prune_removes_what_the_file_dropped_rules_first()
    {
        Assert.Equal(0, (await Cli("apply", Example)).Exit);
        string edited = Edited(s =>
        {
            s = s.Replace("rate: 100mbit ", "rate: 200mbit ", StringComparison.Ordinal);
            s = s.Remove(s.IndexOf("  - uuid: vm-43-eth0", StringComparison.Ordinal), "  - uuid: vm-43-eth0\n    mtu: 1500\n".Length);
            int a = s.IndexOf("  - key_index: 200", StringComparison.Ordinal), b = s.IndexOf("proc_switches:", StringComparison.Ordinal);
            return s[..a] + "  - key_index: 300\n    match: { dip: 10.0.0.0/24 }\n    action: { port: drop }\n\n" + s[b..];
        });
        var (_, plain, _) = await Cli("plan", edited);
        Assert.Equal(["  ~ meter 10"], Lines(plain, "~").Select(l => l[..12]));
        Assert.Equal(["  + rule 300"], Lines(plain, "+").Select(l => l[..12]));
        Assert.Empty(Lines(plain, "-"));
        var (_, pruned, _) = await Cli("plan", edited, "--prune");
        Assert.Equal(["  - port vm-43-eth0", "  - rule 200"], Lines(pruned, "-").Select(l => l[..19].TrimEnd()));
        int mark = _audit.Changes().Count;
        Assert.Equal(0, (await Cli("apply", edited, "--prune")).Exit);
        List<string> log = _audit.Changes()[mark..];
        Assert.True(log.FindIndex(e => e.StartsWith("dpu ClassifierDelete key_index=200", StringComparison.Ordinal)) < log.FindIndex(e => e.StartsWith("dpu DelPort", StringComparison.Ordinal)));
        Assert.Equal("No changes.\n", (await Cli("plan", edited, "--prune")).Out);
    }

    [Fact]
    public async Task DPU_78_shrinks_replacements_and_a_refused_step()
    {
        Assert.Equal(0, (await Cli("apply", Example)).Exit);
        string shrink = Edited(s => s.Replace("size: 20GiB ", "size: 10GiB ", StringComparison.Ordinal));
        var (exit, _, err) = await Cli("plan", shrink);
        Assert.Equal(1, exit);
        Assert.Matches(@"dpu-[0-9a-f]+\.yml:\d+:\d+: error: vdisk vm-42-root: size 10GiB is smaller than the disk's 20GiB", err);
        Assert.Single(err.Trim().Split('\n'));
        string queues = Edited(s => s.Replace("    max_queue: 4", "    max_queue: 2", StringComparison.Ordinal));
        (exit, _, err) = await Cli("plan", queues);
        Assert.Equal(1, exit);
        Assert.Contains("max_queue", err);
        Assert.Contains("--allow-replace", err);
        var (replaceExit, replaced, _) = await Cli("plan", queues, "--allow-replace");
        Assert.Equal(0, replaceExit);
        Assert.Contains("-/+ vdisk vm-42-root", replaced);
    }

    [Fact]
    public async Task DPU_78_an_apply_refused_midway_stops_and_a_rerun_converges()
    {
        Assert.Equal(Ok, (await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "squatter", Vport = 3 })).Status); // another client
        var (exit, _, err) = await Cli("apply", Example);
        Assert.Equal(1, exit);
        Assert.Contains("apply stopped at step 2 of 11: NewPort port vm-42-eth0: ALREADY_EXISTS", err);
        Assert.Contains("done (1): MeterAdd meter 10", err);
        Assert.Contains("failed (1): NewPort port vm-42-eth0", err);
        Assert.Contains("not run (9): NewPort port vm-43-eth0;", err);
        Assert.Equal(Ok, (await _f.Nic.DelPortAsync(new DelPortRequest { Vport = 3 })).Status); // the slot is freed
        Assert.Equal(0, (await Cli("apply", Example)).Exit);
        Assert.Equal("No changes.\n", (await Cli("plan", Example)).Out);
    }

    [Fact]
    public async Task A_saved_plan_applies_as_reviewed_or_not_at_all()
    {
        string saved = Path.Combine(_dir.Path, "plan.json");
        var (exit, reviewed, _) = await Cli("plan", Example, "-o", saved);
        Assert.Equal(0, exit);
        Assert.Equal(Ok, (await _f.Meter.MeterAddAsync(new MeterAddRequest { Id = 99, Rate = 5 })).Status); // someone else changes the agent
        int mark = _audit.Changes().Count;
        string err;
        (exit, _, err) = await Cli("apply", saved);
        Assert.Equal(1, exit);
        Assert.Contains("the agent's state changed since the plan was made; run plan again", err);
        Assert.Equal(mark, _audit.Changes().Count); // nothing sent

        Assert.Equal(Ok, (await _f.Meter.MeterDelAsync(new MeterDelRequest { Id = 99 })).Status); // back as it was planned against
        string output;
        (exit, output, _) = await Cli("apply", saved);
        Assert.Equal(0, exit);
        Assert.StartsWith(reviewed, output, StringComparison.Ordinal); // the reviewed plan, then its steps
        Assert.Equal("No changes.\n", (await Cli("plan", Example)).Out);
    }

    private const string ToOptical = """
        kind: dpu_state
        version: 1
        meters:
          - { id: 7, rate: 10pps }
        rules:
          - key_index: 30
            match: { in_port: "vport:*", dip: 10.9.0.2/32 }
            action: { port: "optical:1", queue: any, meter: 7 }
        """;

    [Fact]
    public async Task A_rule_to_an_optical_port_is_planned_applied_and_read_back()
    {
        string file = _dir.Write("optical.yml", ToOptical);
        var (exit, plan, _) = await Cli("plan", file);
        Assert.Equal(0, exit);
        Assert.Contains("  + rule 30                  -> optical:1 meter 7\n", plan);
        Assert.Equal(0, (await Cli("apply", file)).Exit);
        ClassifierReadResponse rule = await _f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = 30 });
        Assert.Equal((0x20001, -1, 7u), (rule.Action.Vid, rule.Action.Qid, rule.Action.MeterId));
        Assert.Equal("No changes.\n", (await Cli("plan", file)).Out);

        string moved = _dir.Write("optical0.yml", ToOptical.Replace("optical:1", "optical:0", StringComparison.Ordinal));
        Assert.Contains("  ~ rule 30                  -> optical:0 meter 7\n", (await Cli("plan", moved)).Out);
    }

    [Fact]
    public async Task A_rule_to_an_optical_port_the_DPU_lacks_is_refused_at_plan_time_with_file_line_col()
    {
        string file = _dir.Write("optical.yml", ToOptical.Replace("optical:1", "optical:5", StringComparison.Ordinal));
        var (exit, _, err) = await Cli("apply", file);
        Assert.Equal(1, exit);
        Assert.Contains("optical.yml:8:21: error: rule 30: optical port 5 does not exist (the DPU has 2)", err);
        Assert.DoesNotContain(_audit.Changes(), e => e.StartsWith("dpu ", StringComparison.Ordinal)); // not even the meter

        string typo = _dir.Write("typo.yml", ToOptical.Replace("optical:1", "optical:one", StringComparison.Ordinal));
        (exit, _, err) = await Cli("plan", typo);
        Assert.Equal(1, exit);
        Assert.Contains("typo.yml:8:21: error: port 'optical:one' is not a port uuid, vport:N, soc:N, optical:N or drop", err);
    }

    [Fact]
    public async Task A_broken_file_is_refused_before_any_rpc_with_file_line_col()
    {
        string bad = _dir.Write("bad.yml", "ports:\n  - uuid: x\n    mtu: 50\n");
        var (exit, _, err) = await Cli("plan", bad);
        Assert.Equal(1, exit);
        Assert.Contains("bad.yml:3:10: error: mtu 50 is not 68..9216", err);
        Assert.DoesNotContain(_audit.Changes(), e => e.StartsWith("dpu ", StringComparison.Ordinal));
    }
}
