using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;
using NicScript.Host.Families.Dpu;

namespace NicScript.Host.Tests.Capabilities;

/// <summary>The <c>dpu</c> script handle: the same agent objects from JavaScript (plain objects) and C# (the generated messages).</summary>
public sealed class DpuHandleTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_provision_script_creates_ports_a_disk_a_meter_and_a_rule_and_prints_the_tables()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(output) });
        string state = Path.Combine(_dir.Path, "dpu");
        string[] args = ["run", Path.Combine(Repo.Root, "manifests/dpu-provision.yml"), "--dpu-state", state, "--cache", _dir.Path];
        Assert.Equal(0, await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, output, error), args));
        string log = error.ToString();
        Assert.Contains("refused as expected: ALREADY_EXISTS (2): uuid web is vport 0 with other settings", log);
        Assert.Contains("port vport 0 uuid web mac 024e53000000 mtu 9000 qpairs 4 depth 1024", log);
        Assert.Contains("vdisk 0 root: 41943040 sectors, 2 queue(s), PF_TYPE", log);
        Assert.Contains("meter 10: rate 8000 kbit/s, used by 1 rule(s)", log);
        Assert.Contains("rule 100: dip 0xa000007 → vport 0 queue 1 meter 10", log);
        Assert.Contains("14 of 16 elastic NIC", output.ToString());
        var again = new StringWriter();
        Assert.Equal(0, await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, new StringWriter(), again), args));
        Assert.Contains("14 of 16", again.ToString() + output.ToString()); // idempotent: the stored state is reused, nothing added
    }

    [Fact]
    public void A_CSharp_script_uses_the_generated_messages_and_gets_a_DpuException()
    {
        const string script = """
            using NicScript.Dpu.V1;
            using NicScript.Host.Capabilities;
            var rep = Dpu.NewPort(new NewPortRequest { Uuid = "cs", Mtu = 4000 });
            var cfg = Dpu.GetPortCfg(new GetPortCfgRequest { Vport = rep.Vport });
            string result = $"vport {rep.Vport} mtu {cfg.Mtu}";
            try { Dpu.DelPort(new DelPortRequest { Vport = 9 }); }
            catch (DpuException e) { result += $", {e.Status} {e.Code} {e.Detail}"; }
            Dpu.NoThrow = true;
            return result + ", no-throw status " + Dpu.DelPort(new DelPortRequest { Vport = 9 }).Status;
            """;
        var report = ScriptRun.Single("dpu.csx", script, "  - CAP_DPU_ADMIN\n  - CAP_LOG_WRITE");
        Assert.True(report.Status == NicScript.Host.Runtime.VNodeStatus.Completed, report.Error);
        Assert.Equal("vport 0 mtu 4000, NOT_FOUND 1 vport 9 does not exist, no-throw status 1", report.Result);
        var denied = ScriptRun.Single("dpu.js", "dpu.getPortCapability({});", "  - CAP_LOG_WRITE");
        Assert.Contains("CAP_DPU_ADMIN not granted", denied.Error);
    }

    private const string Grants = "  - CAP_DPU_ADMIN\n  - CAP_LOG_WRITE";

    [Fact]
    public void JavaScript_turns_NoThrow_on_by_assignment()
    {
        var r = ScriptRun.Single("nothrow.js", """
            const before = dpu.noThrow;
            dpu.noThrow = true;
            `${before} ${dpu.noThrow} ${dpu.newPort({ uuid: "a b" }).status} ${typeof dpu.setNoThrow}`;
            """, Grants);
        Assert.True(r.Status == NicScript.Host.Runtime.VNodeStatus.Completed, r.Error);
        Assert.Equal("false true 4 undefined", r.Result); // INVALID_ARGUMENT returned, not thrown
    }

    [Fact]
    public void JavaScript_NoThrow_of_the_wrong_type_is_a_TypeError_and_keeps_its_value()
    {
        var r = ScriptRun.Single("nothrow.js", """
            let seen = "assigned";
            try { dpu.noThrow = 1; } catch (e) { seen = `${e.name}: ${e.message}`; }
            `${seen}; ${dpu.noThrow}`;
            """, Grants);
        Assert.Equal("TypeError: noThrow: value must be true or false, got 1; false", r.Result);
    }

    [Theory]
    [InlineData("")]              // sloppy: the assignment is ignored
    [InlineData("'use strict';")] // strict: a TypeError, as for any read-only property
    public void JavaScript_cannot_change_a_reply(string mode)
    {
        var r = ScriptRun.Single("reply.js", mode + """
            dpu.noThrow = true;
            const reply = dpu.newPort({ uuid: "a b" });
            let seen = "ignored";
            try { reply.status = 0; } catch (e) { seen = e.name; }
            `${seen} ${reply.status}`;
            """, Grants);
        Assert.Equal((mode.Length == 0 ? "ignored" : "TypeError") + " 4", r.Result);
    }
}
