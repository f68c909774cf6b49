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
        // the curves run when asked (--only curve): the default bench stays as long as it was
        Assert.DoesNotContain(doc.RootElement.GetProperty("results").EnumerateArray(), r => r.GetProperty("family").GetString()!.StartsWith("curve", StringComparison.Ordinal));
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

    [Fact]
    public async Task Bench_Curves_RunOnlyWhenAskedAndEachPointHasFigures()
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        Assert.Equal(0, await Program.RunAsync(cli, ["bench", "--json", "--seconds", "0.2", "--only", "curve"]));
        using JsonDocument doc = JsonDocument.Parse(output.ToString());
        JsonElement[] rows = [.. doc.RootElement.GetProperty("results").EnumerateArray()];
        Assert.All(rows, r => Assert.StartsWith("curve ", r.GetProperty("family").GetString()));
        Assert.All(rows, r => Assert.True(r.GetProperty("mpps").GetDouble() > 0 && r.GetProperty("cpu_seconds").GetDouble() > 0, r.ToString()));

        var frames = rows.Where(r => r.GetProperty("family").GetString() == "curve frame").ToDictionary(r => r.GetProperty("frame_bytes").GetInt32());
        Assert.Equal([64, 128, 256, 512, 1024, 1500, 9000], frames.Keys.Order());
        // bytes per CPU second, not per wall second: a loaded machine moves the wall clock, not the work a frame takes
        double BitsPerCpuSecond(int bytes) => frames[bytes].GetProperty("packets").GetInt64() * 8.0 * bytes / frames[bytes].GetProperty("cpu_seconds").GetDouble();
        Assert.True(BitsPerCpuSecond(1500) > BitsPerCpuSecond(64));
        Assert.True(BitsPerCpuSecond(9000) > BitsPerCpuSecond(64));

        int[] pairs = [.. rows.Where(r => r.GetProperty("family").GetString() == "curve pairs").Select(r => r.GetProperty("queue_pairs").GetInt32())];
        Assert.Equal([1, 8], pairs);

        var vnodes = rows.Where(r => r.GetProperty("family").GetString() == "curve vnodes").ToArray();
        Assert.Equal([1, 4, 16], vnodes.Select(r => r.GetProperty("vnodes").GetInt32()));
        foreach (JsonElement r in vnodes) // every V-Node forwarded in the window: none was starved out
            Assert.Equal(r.GetProperty("vnodes").GetInt32(), r.GetProperty("vnode_mpps").EnumerateArray().Count(m => m.GetDouble() > 0));
    }

    [Theory]
    [InlineData(true, true, '█')]
    [InlineData(true, false, '#')] // the ASCII table of a terminal without colour
    [InlineData(false, true, ' ')]
    [InlineData(false, false, ' ')]
    public async Task Bench_Table_HasABarPerRowOnlyOnATerminal(bool terminal, bool color, char bar)
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors }),
            output, new StringWriter(), style: new OutputStyle(terminal, color, false));
        if (terminal) cli.Output.Profile.Width = 200; // a wide terminal: each row one line
        Assert.Equal(0, await Program.RunAsync(cli, ["bench", "--seconds", "0.1", "--only", "curve pairs"]));
        string text = output.ToString();
        Assert.Contains("loopback mq", text);
        if (terminal) Assert.Equal(2, text.Split('\n').Count(line => line.Contains(bar)));
        Assert.DoesNotContain(terminal ? (bar == '█' ? '#' : '█') : '█', text);
        if (!terminal) Assert.DoesNotContain('#', text);
    }

    [Fact]
    public void Bar_IsScaledToTheFamilysBestInEighthsOfACell()
    {
        Assert.Equal(new string('█', 24), BenchCommand.Bar(5, 5, 24));
        Assert.Equal(new string('█', 12), BenchCommand.Bar(2.5, 5, 24));
        Assert.Equal("█▌", BenchCommand.Bar(1.5, 8, 8));
        Assert.Equal("▏", BenchCommand.Bar(1e-9, 5, 24)); // a row that ran shows, however small
        Assert.Equal("", BenchCommand.Bar(0, 5, 24));
        Assert.Equal(("############", "#", ""), (BenchCommand.Bar(2.5, 5, 24, ascii: true), BenchCommand.Bar(1e-9, 5, 24, ascii: true), BenchCommand.Bar(0, 5, 24, ascii: true)));
    }
}
