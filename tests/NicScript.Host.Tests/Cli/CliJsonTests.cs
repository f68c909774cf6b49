using System.Text.Json;
using NicScript.Host.Cli;
using NicScript.Host.Tests.Dpu;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary>JSON output reads as written: no <c>\u003E</c> for <c>&gt;</c>, no <c>\u00B5</c> for <c>µ</c>, and it still parses.</summary>
public sealed class CliJsonTests : IAsyncLifetime
{
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync() => _f = await DpuAgentFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    private static async Task<(int Exit, string Out, string Err)> Nicscript(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        int exit = await Program.RunAsync(new CliContext(console, output, error), args);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task PlanJson_PrintsGreaterThanLiterally_AndParses()
    {
        var (exit, output, error) = await Nicscript("plan", Path.Combine(Repo.Root, "manifests", "dpu.yml"), "--json", "--target", _f.Target);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain(@"\u003E", output, StringComparison.OrdinalIgnoreCase);
        using JsonDocument doc = JsonDocument.Parse(output);
        string[] texts = [.. doc.RootElement.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("text").GetString()!)];
        string rule = Assert.Single(texts, t => t.StartsWith("-> ", StringComparison.Ordinal) && t.Contains("meter", StringComparison.Ordinal)); // a rule: "-> TARGET … meter N"
        Assert.Contains($"\"text\":\"{rule}\"", output); // exactly as the text is, '>' included
    }

    [Fact]
    public void Text_EscapesOnlyWhatJsonRequires()
    {
        string json = CliJson.Text(new System.Text.Json.Nodes.JsonObject { ["s"] = "a -> b & <c> 'd' µs ≤ 5\"\\\n" });
        Assert.Equal("{\"s\":\"a -> b & <c> 'd' µs ≤ 5\\\"\\\\\\n\"}", json);
    }
}
