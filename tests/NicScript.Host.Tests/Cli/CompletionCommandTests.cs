using System.Diagnostics;

namespace NicScript.Host.Tests.Cli;

/// <summary><c>nicscript completion bash|zsh</c>: the printed glue, loaded in a real shell, completes commands, options and
/// manifest paths by asking the real program (a <c>nicscript</c> on PATH that runs this build).</summary>
public sealed class CompletionCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public CompletionCommandTests()
    {
        // what a user has: a nicscript command on PATH
        string wrapper = _dir.Write("bin/nicscript", $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "nicscript.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _dir.Write("work/manifests/a.yml", "");
        _dir.Write("work/manifests/b.txt", "");
        _dir.Write("work/manifests/sub/c.yaml", "");
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>Runs <paramref name="script"/> with <c>bash -c</c> (or zsh) in the work folder with the wrapper first on PATH.</summary>
    private string Shell(string shell, string script)
    {
        var psi = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir.File("work") };
        if (shell == "zsh") psi.ArgumentList.Add("-f"); // no user startup files
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.Environment["PATH"] = _dir.File("bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        using Process p = Process.Start(psi)!;
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{shell} did not end (hung)");
        }
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{shell} exit {p.ExitCode}: {error.Result}");
        return output.Result;
    }

    /// <summary>What bash's completion function offers for the words typed (the last one is being completed).</summary>
    private string[] Bash(params string[] words)
    {
        string quoted = string.Join(' ', words.Select(w => "'" + w + "'"));
        string output = Shell("bash", $$"""
            source <(nicscript completion bash) || exit 3
            COMP_WORDS=({{quoted}}); COMP_CWORD={{words.Length - 1}}
            _nicscript_complete
            printf '%s\n' "${COMPREPLY[@]}"
            """);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void Bash_CompletesACommand() => Assert.Equal(["run"], Bash("nicscript", "ru"));

    [Fact]
    public void Bash_CompletesTheOptionsOfRun()
    {
        string[] offered = Bash("nicscript", "run", "--");
        Assert.All(offered, o => Assert.StartsWith("--", o));
        foreach (string option in new[] { "--json", "--duration", "--machine", "--faults", "--color", "--help" }) Assert.Contains(option, offered);
        Assert.DoesNotContain("--prune", offered); // plan's, not run's
    }

    [Fact]
    public void Bash_CompletesManifestPaths_FoldersAndYamlOnly() =>
        Assert.Equal(["manifests/a.yml", "manifests/sub/"], Bash("nicscript", "check", "manifests/"));

    [Fact]
    public void Bash_CompletesOptionValues() => Assert.Equal(["always", "auto"], Bash("nicscript", "run", "x.yml", "--color", "a"));

    [SkippableFact]
    public void Zsh_OffersTheSameCandidates()
    {
        Skip.If(NicScript.Host.Tests.EndToEnd.NetNamespace.Which("zsh") is null, "needs zsh (.ci/run installs it)");
        // compadd and _files stand in for zsh's completion system, which needs a terminal: they print what they are given
        string output = Shell("zsh", """
            compdef() { print -r -- "compdef $*"; }
            compadd() { print -r -- "compadd $*"; }
            _files() { print -r -- "_files"; }
            source <(nicscript completion zsh) || exit 3
            words=(nicscript ru); CURRENT=2; _nicscript
            words=(nicscript run --js); CURRENT=3; _nicscript
            words=(nicscript run manifests/); CURRENT=3; _nicscript
            words=(nicscript run zzz); CURRENT=3; _nicscript
            """);
        Assert.Equal(["compdef _nicscript nicscript", "compadd -- run", "compadd -- --json", "compadd -S  -- manifests/sub/", "compadd -- manifests/a.yml", "_files"],
            output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Completion_UnknownShell_IsAUserError()
    {
        var (exit, _, error) = NicscriptProcess.Run(_dir.Path, null, TimeSpan.FromMinutes(2), "completion", "fish");
        Assert.Equal(1, exit);
        Assert.Contains("fish", error);
    }
}
