using System.CommandLine;
using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Docs;

/// <summary>Every example in every command's <c>--help</c> runs against the built CLI and ends, with exit 0 or the status
/// its <c># … exit N</c> comment documents.</summary>
/// <remarks>
/// Design: the examples are read from the commands themselves (the "Examples:" part of each description, walking the
/// root's subcommands), so a new command's examples are tested without touching this file. A line is an example when it
/// starts with <c>nicscript</c> or pipes into it. The few things an example assumes are made first, once, here:
/// the files it reads (<see cref="Fixtures"/>), and for <c>plan</c>/<c>apply</c> an agent on 127.0.0.1:50051 and :50052.
/// Bounded forms: <c>serve</c> (runs until Ctrl+C) runs with <c>--duration 2s</c>; <c>bench</c> (minutes of full load
/// and, as root, a network namespace) runs with <c>--seconds 0.2</c> on its netdevice scenario; a <c>--wire tap:</c>
/// example needs root and a TAP device and is left to the TAP end-to-end tests.
/// </remarks>
[Collection(NonParallel.Name)]
public sealed class HelpExamplesTests : IClassFixture<HelpExamplesTests.Agents>
{
    private readonly Agents _agents;

    public HelpExamplesTests(Agents agents) => _agents = agents;

    /// <summary>The DPU agents the plan and apply examples talk to (127.0.0.1:50051 and :50052), started once for all of
    /// them with a throwaway state and stopped after the last.</summary>
    public sealed class Agents : IDisposable
    {
        private readonly TempDir _dir = new();
        private readonly List<System.Diagnostics.Process> _serves = [];
        /// <summary>Starts them unless they run and waits until both accept connections (a hang guard of two minutes).</summary>
        public void Wait()
        {
            if (_serves.Count > 0) return;
            foreach (int port in new[] { 50051, 50052 })
            {
                var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
                foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "nicscript.dll"), "serve", "--listen", $"127.0.0.1:{port}", "--state", _dir.File($"agent{port}"), "--duration", "10m" })
                    psi.ArgumentList.Add(a);
                psi.Environment["NO_COLOR"] = "1";
                var serve = System.Diagnostics.Process.Start(psi)!;
                serve.OutputDataReceived += (_, _) => { }; // its log is not compared: drained so it never blocks
                serve.ErrorDataReceived += (_, _) => { };
                serve.BeginOutputReadLine();
                serve.BeginErrorReadLine();
                _serves.Add(serve);
            }
            foreach (int port in new[] { 50051, 50052 })
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (true)
                {
                    using var client = new System.Net.Sockets.TcpClient();
                    try { client.Connect("127.0.0.1", port); break; }
                    catch (System.Net.Sockets.SocketException) when (clock.Elapsed < TimeSpan.FromMinutes(2)) { Thread.Sleep(200); }
                }
            }
        }

        /// <summary>Stops them (a serve example needs their ports); the next <see cref="Wait"/> starts them again on the
        /// state they kept.</summary>
        public void Stop()
        {
            foreach (var p in _serves)
            {
                try { p.Kill(entireProcessTree: true); p.WaitForExit(); }
                catch (InvalidOperationException) { }
                p.Dispose();
            }
            _serves.Clear();
        }

        public void Dispose()
        {
            Stop();
            _dir.Dispose();
        }
    }

    private const string FrameHex = "e41d2dab2bc27cfe90643b32080045c2003c718c4000401191610a0011010a001201000012b7002800008100ffff40000118000000000000000000000000000000000000000082fd002a";

    /// <summary>Files the help examples read, made in the working folder before each one.</summary>
    private static readonly string[] Fixtures =
    [
        "printf '{\"type\":\"gdma_eqe_info\",\"hex\":\"81000000\"}\\n' > vectors.jsonl",
        "printf '{\"type\":\"gdma_dev_id\",\"fields\":{\"type\":2,\"instance\":1}}\\n' > fields.jsonl",
        "printf 'nic = net.open(\"00:1f.0\").up()\\nnic.mac\\n' > session.js",
    ];

    private static Command Root() =>
        CommandLine.Build(new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }), TextWriter.Null, TextWriter.Null));

    /// <summary>(command path, example) for every example of every command.</summary>
    internal static IEnumerable<(string Command, string Example)> All()
    {
        var pending = new Stack<(string Path, Command Command)>([("nicscript", Root())]);
        while (pending.TryPop(out var item))
        {
            foreach (string line in ExamplesOf(item.Command.Description)) yield return (item.Path, line);
            foreach (Command sub in item.Command.Subcommands) pending.Push((item.Path + " " + sub.Name, sub));
        }
    }

    /// <summary>The lines under "Examples:" in a description, up to the first blank line.</summary>
    internal static IEnumerable<string> ExamplesOf(string? description)
    {
        bool inExamples = false;
        foreach (string raw in (description ?? "").Replace("\r\n", "\n").Split('\n'))
        {
            string line = raw.Trim();
            if (line == "Examples:") { inExamples = true; continue; }
            if (!inExamples) continue;
            if (line.Length == 0) break;
            if (line.StartsWith("nicscript ", StringComparison.Ordinal) || line.Contains("| nicscript ", StringComparison.Ordinal) || line.Contains("&& nicscript ", StringComparison.Ordinal)) yield return line;
        }
    }

    public static TheoryData<string, string> Examples()
    {
        var data = new TheoryData<string, string>();
        foreach ((string command, string example) in All()) data.Add(command, example);
        return data;
    }

    [SkippableTheory, MemberData(nameof(Examples))]
    public void Example_RunsAndEnds(string command, string example)
    {
        Skip.If(example.Contains("--wire tap:", StringComparison.Ordinal), "needs root and a TAP device (tests/NicScript.Host.Tests/EndToEnd/TapEndToEndTests.cs runs --wire tap)");
        Skip.If(example.StartsWith("tshark ", StringComparison.Ordinal) && EndToEnd.NetNamespace.Which("tshark") is null, "needs tshark (.ci/run installs it)");
        Skip.If(example.StartsWith("nicscript guest", StringComparison.Ordinal), "boots a guest against a running `run --export` (Guests/VirtioNetGuestTests does, as the README shows)");
        string run = example;
        var setup = new List<string>(Fixtures);
        if (example.StartsWith("nicscript serve", StringComparison.Ordinal)) _agents.Stop(); // its ports
        if (example.StartsWith("nicscript serve", StringComparison.Ordinal)) run = run.Replace("nicscript serve", "nicscript serve --duration 2s", StringComparison.Ordinal);
        if (example.StartsWith("nicscript bench", StringComparison.Ordinal)) run = run.Replace("--only netdevice", "", StringComparison.Ordinal).Replace("nicscript bench", "nicscript bench --seconds 0.2 --only netdevice", StringComparison.Ordinal);
        if (example.Contains("rdma.pcap", StringComparison.Ordinal)) setup.Add("nicscript run manifests/rdma-pair.yml --pcap rdma.pcap");
        if (command is "nicscript plan" or "nicscript apply" or "nicscript call" || example.StartsWith("nicscript call", StringComparison.Ordinal)) _agents.Wait();
        var markers = DoctestMarkers.None with { Setup = setup };
        var shell = new ShellExample($"{command} --help", 0, [new ShellStep(run, 0, [], ShellStep.DocumentedExit(example))], markers);
        using TempDir dir = ExampleRunner.MakeWorkDir();
        var results = ExampleRunner.Run(shell, dir.Path, TimeSpan.FromMinutes(2));
        ExampleRunner.Verify(shell, results);
    }

    /// <summary>The walk finds the examples of nested commands too (a walk that found none would pass everything).</summary>
    [Fact]
    public void EveryCommandWithAnAction_ShowsExamples()
    {
        var all = All().ToList();
        Assert.Contains(all, e => e.Command == "nicscript machine show");
        Assert.Contains(all, e => e.Command == "nicscript gdma decode");
        Assert.Contains(all, e => e.Example.Contains("| nicscript rdma inspect --jsonl", StringComparison.Ordinal));
        Assert.True(all.Count >= 20, $"only {all.Count} help examples found");
    }

    /// <summary>A bad option value is one line and a hint, exit 1, for every command — not the whole help.</summary>
    [Theory]
    [InlineData(new[] { "run", "x.yml", "--duration", "5x" }, "'5x' is not a duration", "see nicscript run --help")]
    [InlineData(new[] { "machine", "show", "--jsno" }, "--jsno", "see nicscript machine show --help")]
    [InlineData(new[] { "bench", "--seconds", "fast" }, "fast", "see nicscript bench --help")]
    [InlineData(new[] { "rnu" }, "rnu", "see nicscript --help")]
    public void ABadOption_IsOneLineAndAHint_Exit1(string[] args, string names, string hint)
    {
        var (exit, output, error) = NicscriptProcess.Run(null, null, null, args);
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        string[] lines = error.TrimEnd().Split('\n');
        Assert.True(lines.Length == 2, $"expected one error line and the hint, got:\n{error}");
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(names, lines[0], StringComparison.Ordinal);
        Assert.Equal(hint, lines[1]);
    }
}
