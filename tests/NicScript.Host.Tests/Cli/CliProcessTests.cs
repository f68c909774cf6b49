using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;

namespace NicScript.Host.Tests.Cli;

/// <summary>The real program in its own process: what a warm start loads.</summary>
public sealed class CliProcessTests
{
    [Fact]
    public void Run_CSharpSecondTime_NeverLoadsRoslyn()
    {
        using var dir = new TempDir();
        string nicscript = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        string manifest = Path.Combine(Repo.Root, "manifests/hello-cs.yml");
        string Run()
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { nicscript, "run", manifest, "--json", "--cache", dir.File("cache") }) psi.ArgumentList.Add(a);
            using Process p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            return output;
        }
        using JsonDocument cold = JsonDocument.Parse(Run());
        using JsonDocument warm = JsonDocument.Parse(Run());
        Assert.True(cold.RootElement.GetProperty("roslyn_loaded").GetBoolean());
        Assert.False(warm.RootElement.GetProperty("roslyn_loaded").GetBoolean());
        Assert.Equal("hello, dma", warm.RootElement.GetProperty("vnodes")[0].GetProperty("result").GetString());
    }
}
