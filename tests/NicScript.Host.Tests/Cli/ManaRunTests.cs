using System.Text.Json;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary><c>nicscript run manifests/mana.yml</c> and its C# twin: a MANA driver written as a script passes 1000 checked frames.</summary>
public sealed class ManaRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("manifests/mana.yml")]
    [InlineData("manifests/mana-cs.yml")]
    public async Task ManaScriptDriver_BringsTheVfUp_And1000FramesComeBackIntact(string manifest)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        int exit = await Program.RunAsync(new CliContext(console, output, error),
            ["run", Path.Combine(Repo.Root, manifest), "--json", "--cache", _dir.Path]);
        Assert.True(exit == 0, error.ToString());
        using JsonDocument doc = JsonDocument.Parse(output.ToString());
        JsonElement vnode = doc.RootElement.GetProperty("vnodes")[0];
        Assert.Equal("completed", vnode.GetProperty("status").GetString());
        Assert.Equal(1000, vnode.GetProperty("metrics").GetProperty("mana_frames_checked").GetProperty("value").GetDouble());
        Assert.Contains("sent 1000, received 1000, corrupted 0, TX errors 0", error.ToString());
    }
}
