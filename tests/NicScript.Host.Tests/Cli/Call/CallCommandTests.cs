using System.Text.Json;
using NicScript.Host.Tests.Dpu;

namespace NicScript.Host.Tests.Cli.Call;

/// <summary><c>nicscript call</c> against a real DPU agent (the server <c>nicscript serve</c> runs, on a loopback port the
/// OS picks): reflection finds the schema, JSON goes in, the reply comes out as JSON with the agent's trailers.</summary>
public sealed class CallCommandTests : IAsyncLifetime
{
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync() => _f = await DpuAgentFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    private Task<(int Exit, string Out, string Err)> Call(params string[] args) => CallWithInput("", args);

    private async Task<(int Exit, string Out, string Err)> CallWithInput(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(output) });
        int exit = await Program.RunAsync(new NicScript.Host.Cli.CliContext(console, output, error, new StringReader(stdin)), ["call", .. args, "--target", _f.Target]);
        return (exit, output.ToString(), error.ToString());
    }

    private static void AssertOneLine(string err, string expected)
    {
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err); // no stack trace
    }

    [Fact]
    public async Task List_PrintsEveryServiceWithItsMethods()
    {
        var (exit, output, err) = await Call("--list");
        Assert.Equal(0, exit);
        Assert.Equal("", err);
        Assert.Contains("nicscript.dpu.v1.ElasticNicService: GetPortCapability NewPort DelPort SetPortCfg GetPortCfg QueryPort\n", output);
        Assert.Contains("nicscript.dpu.v1.PortStatsService: GetPortStats\n", output);
        Assert.Contains("grpc.reflection.v1.ServerReflection: ServerReflectionInfo\n", output);
    }

    [Fact]
    public async Task ListService_PrintsTheMethodSignatures()
    {
        var (exit, output, _) = await Call("--list", "MeterService");
        Assert.Equal(0, exit);
        Assert.StartsWith("nicscript.dpu.v1.MeterService\n", output);
        Assert.Contains("  rpc MeterAdd(nicscript.dpu.v1.MeterAddRequest) returns (nicscript.dpu.v1.MeterOpsRsp)\n", output);
    }

    [Fact]
    public async Task Call_NewPort_CreatesThePortAndPrintsTheReplyAsJson()
    {
        var (exit, output, err) = await Call("nicscript.dpu.v1.ElasticNicService.NewPort", """{"uuid":"web","mtu":9000,"max_qpair":4}""");
        Assert.Equal(0, exit);
        Assert.Equal("", err); // an OK reply has no nicscript-* trailers
        using JsonDocument reply = JsonDocument.Parse(output);
        Assert.Equal(0u, reply.RootElement.GetProperty("status").GetUInt32());
        uint vport = reply.RootElement.GetProperty("vport").GetUInt32();
        Assert.Equal("web", _f.Agent.State.Ports[vport].Uuid);
    }

    [Fact]
    public async Task Call_RequestDash_IsReadFromStdin()
    {
        var (exit, output, _) = await CallWithInput("""{"id": 10, "rate": 8000}""", "MeterService.MeterAdd", "-");
        Assert.Equal(0, exit);
        Assert.Contains("\"status\": 0", output);
        Assert.True(_f.Agent.State.Meters.ContainsKey(10));
    }

    [Fact]
    public async Task Call_ReplyText_IsPrintedAsWrittenWithoutHtmlEscapes()
    {
        Assert.Equal(0, (await Call("ElasticNicService/NewPort", """{"uuid":"a<b>&c'"}""")).Exit); // short service name, grpcurl's slash
        var (exit, output, _) = await Call("ElasticNicService.QueryPort");
        Assert.Equal(0, exit);
        Assert.Contains("\"uuid\": \"a<b>&c'\"", output);
        Assert.DoesNotContain("\\u00", output);
    }

    [Fact]
    public async Task Call_RefusedByTheAgent_PrintsTheReplyAndTheTrailers_Exit1()
    {
        var (exit, output, err) = await Call("ElasticNicService.DelPort", """{"vport":13}""");
        Assert.Equal(1, exit);
        using JsonDocument reply = JsonDocument.Parse(output); // stdout stays JSON, for jq
        Assert.Equal(DpuAgentFixture.NotFound, reply.RootElement.GetProperty("status").GetUInt32());
        Assert.StartsWith("nicscript-status: NOT_FOUND\nnicscript-detail: ", err);
        Assert.Contains("13", err);
    }

    [Fact]
    public async Task Call_BadJson_IsOneLineWithItsPosition_Exit1()
    {
        var (exit, output, err) = await Call("ElasticNicService.NewPort", "{\"uuid\": \"web\",\n \"mtu\": }");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        AssertOneLine(err, "call: request JSON: line 2, column 9: ");
        Assert.Empty(_f.Agent.State.Ports); // nothing was sent
    }

    [Fact]
    public async Task Call_UnknownField_NamesIt_Exit1()
    {
        var (exit, _, err) = await Call("ElasticNicService.NewPort", """{"uuid":"web","mtuu":9000}""");
        Assert.Equal(1, exit);
        AssertOneLine(err, "call: request for nicscript.dpu.v1.NewPortRequest, line 1, column 15 (field mtuu): ");
    }

    [Fact]
    public async Task Call_WrongTypeInANestedField_PointsAtItsField_Exit1()
    {
        var (exit, _, err) = await Call("TrafficControlService.ClassifierWrite", "{\"key_index\": 100,\n  \"action\": {\"vid\": \"zero\"}}");
        Assert.Equal(1, exit);
        AssertOneLine(err, "call: request for nicscript.dpu.v1.ClassifierWriteRequest, line 2, column 3 (field action): ");
    }

    [Fact]
    public async Task Call_UnknownMethod_ListsCloseMatches_Exit1()
    {
        var (exit, _, err) = await Call("ElasticNicService.NewPrt", "{}");
        Assert.Equal(1, exit);
        AssertOneLine(err, "call: nicscript.dpu.v1.ElasticNicService has no method 'NewPrt'; did you mean NewPort?");
    }

    [Fact]
    public async Task Call_UnknownService_ListsCloseMatches_Exit1()
    {
        var (exit, _, err) = await Call("MeterServce.MeterAdd", "{}");
        Assert.Equal(1, exit);
        AssertOneLine(err, "call: no service 'MeterServce'; did you mean nicscript.dpu.v1.MeterService?");
    }

    [Fact]
    public async Task Call_StreamingRpc_IsRefusedWithItsSignature_Exit1()
    {
        var (exit, _, err) = await Call("grpc.reflection.v1.ServerReflection.ServerReflectionInfo", "{}");
        Assert.Equal(1, exit);
        AssertOneLine(err, "is a streaming rpc; call makes unary calls only");
    }

    [Fact]
    public async Task Call_NothingListening_IsOneLineWithTheStatusCode_Exit1()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)) { probe.Start(); port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port; }
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(output) });
        int exit = await Program.RunAsync(new NicScript.Host.Cli.CliContext(console, output, error), ["call", "--list", "--target", $"127.0.0.1:{port}"]);
        Assert.Equal(1, exit);
        AssertOneLine(error.ToString(), $"call: cannot read the services of 127.0.0.1:{port}: UNAVAILABLE: ");
    }
}
