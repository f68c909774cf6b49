using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace NicScript.Host.Tests.Guests;

/// <summary>The Linux <c>virtio_net</c> driver, unmodified, drives NicScript's virtio-net: <c>nicscript run … --export</c>
/// gives the function to the guest over vfio-user, and a responder V-Node on the other end of its wire answers the
/// guest's ARP and pings — the way a user runs it (README "Real kernels on NicScript devices").</summary>
[Collection(NonParallel.Name)]
public sealed partial class VirtioNetGuestTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void VirtioNet_ExportedOverVfioUser_GuestPingsTheResponder20Of20AndCountersAgree()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        var clock = Stopwatch.StartNew();
        using var dir = new TempDir();
        string socket = dir.File("nic.sock"), trace = dir.File("bus.jsonl");
        using var run = new ExportingRun(output, "run", Path.Combine(Repo.Root, "manifests", "responder.yml"),
            "--machine", Path.Combine(Repo.Root, "manifests", "machines", "guest-pair.yml"),
            "--export", "00:1e.0=" + socket, "--trace", trace, "--duration", "300s");
        run.WaitForLine("vfio-user on " + socket, TimeSpan.FromSeconds(60));
        var options = new GuestBootOptions("ping")
        {
            Devices = [GuestDevice.VfioUser("nic0", socket)],
            Parameters = new Dictionary<string, string> { ["addr"] = "169.254.0.1/16", ["peer"] = "169.254.0.2", ["count"] = "20", ["interval"] = "0.2" },
            KernelArguments = "ipv6.disable=1", // no router solicitations after the counters are read: the two sides count the same frames
        };

        GuestRun booted = GuestVm.Run(guest, options, output);
        string stats = run.Stop();

        Assert.True(booted.Value("ping") == "20/20", booted.Explain($"ping {booted.Value("ping")}"));
        Assert.True(booted.Completed, booted.Explain("the ping scenario did not finish"));
        Dictionary<string, long> counters = booted.Value("counters").Split(' ').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => long.Parse(kv[1]));
        Match model = ModelCounters().Match(stats);
        Assert.True(model.Success, $"no counters of 00:1e.0 in the run's output:\n{stats}");
        Assert.Equal(counters["tx_packets"], long.Parse(model.Groups["tx"].Value)); // what the guest sent, the model sent on the wire
        Assert.Equal(counters["rx_packets"], long.Parse(model.Groups["rx"].Value)); // what the model delivered, the guest received
        Assert.Contains("\"ev\":\"dma_map\"", File.ReadAllText(trace));
        output.WriteLine($"virtio_net guest test: {clock.Elapsed.TotalSeconds:0.0} s (guest {booted.Elapsed.TotalSeconds:0.0} s)");
    }

    [GeneratedRegex(@"00:1e\.0 virtio-net: tx (?<tx>\d+) \(\d+ errors\), rx (?<rx>\d+) ")]
    private static partial Regex ModelCounters();

    /// <summary><c>nicscript ARGS</c> running beside the test; its standard error is kept and shown in the test output.</summary>
    private sealed class ExportingRun : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _error = [];
        private readonly ITestOutputHelper _output;

        public ExportingRun(ITestOutputHelper output, params string[] args)
        {
            _output = output;
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "nicscript.dll"));
            foreach (string a in args) psi.ArgumentList.Add(a);
            psi.Environment["NO_COLOR"] = "1";
            _process = Process.Start(psi)!;
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_error) { _error.Add(e.Data); Monitor.PulseAll(_error); }
                _output.WriteLine("nicscript: " + e.Data);
            };
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.WriteLine("nicscript: " + e.Data); };
            _process.BeginErrorReadLine();
            _process.BeginOutputReadLine();
        }

        public void WaitForLine(string text, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            lock (_error)
                while (!_error.Any(l => l.Contains(text, StringComparison.Ordinal)))
                {
                    Assert.False(_process.HasExited, $"nicscript ended before printing \"{text}\":\n{string.Join('\n', _error)}");
                    Assert.True(clock.Elapsed < timeout, $"nicscript did not print \"{text}\" within {timeout.TotalSeconds:0} s");
                    Monitor.Wait(_error, TimeSpan.FromMilliseconds(200));
                }
        }

        /// <summary>Stops the run as a user's Ctrl-C does; what it printed on standard error (its closing report).</summary>
        public string Stop()
        {
            using (Process kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) kill.WaitForExit();
            Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(30)), "nicscript run did not stop on SIGINT");
            _process.WaitForExit();
            lock (_error) return string.Join('\n', _error);
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
