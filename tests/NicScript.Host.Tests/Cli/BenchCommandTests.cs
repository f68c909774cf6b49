using System.Text.Json;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

[Collection(NonParallel.Name)]
public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_Json_PrintsEveryRowWithFigures()
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        int exit = await Program.RunAsync(cli, ["bench", "--json", "--seconds", "0.2"]);
        Assert.Equal(0, exit);
        using JsonDocument doc = JsonDocument.Parse(output.ToString());
        var rows = doc.RootElement.GetProperty("results").EnumerateArray()
            .Select(r => (r.GetProperty("scenario").GetString(), r.GetProperty("driver").GetString(), r.GetProperty("frame_bytes").GetInt32(), r.GetProperty("mpps").GetDouble()))
            .ToArray();
        Assert.Contains(rows, r => r is ("loopback", "core", 64, > 0));
        Assert.Contains(rows, r => r is ("loopback", "core", 1500, > 0));
        Assert.Contains(rows, r => r is ("ring", "core", 0, > 0));
        Assert.Contains(rows, r => r is ("loopback", "cs", 64, > 0));
        Assert.Contains(rows, r => r is ("loopback", "js", 64, > 0));
        Assert.Contains(rows, r => r is ("netdevice session", "core", 64, > 0));
        Assert.Contains(rows, r => r is ("rdma write", "core", 65536, > 0));
        Assert.Contains(rows, r => r is ("rdma send", "core", 64, > 0));
        Assert.Contains(rows, r => r is ("memcpy", "core", 65536, > 0));
        // rates of thousands per second round to 0.00x Mpps: these rows are checked by their counts
        var counted = doc.RootElement.GetProperty("results").EnumerateArray().Where(r => r.GetProperty("scenario").GetString() is "dpu-rpc" or "sqlite commit")
            .ToDictionary(r => r.GetProperty("scenario").GetString()!, r => r.GetProperty("packets").GetInt64());
        Assert.True(counted["dpu-rpc"] > 0);
        Assert.True(counted["sqlite commit"] > 0);
    }

    [Fact]
    public async Task Bench_Only_RunsTheMatchingRows()
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        Assert.Equal(0, await Program.RunAsync(cli, ["bench", "--json", "--seconds", "0.2", "--only", "netdevice"]));
        using JsonDocument doc = JsonDocument.Parse(output.ToString());
        Assert.Equal("netdevice session", Assert.Single(doc.RootElement.GetProperty("results").EnumerateArray()).GetProperty("scenario").GetString());
        var error = new StringWriter();
        var cli2 = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(new StringWriter()) }), new StringWriter(), error);
        Assert.Equal(1, await Program.RunAsync(cli2, ["bench", "--only", "warp-drive"]));
        Assert.Contains("no scenario matches", error.ToString());
    }
}
