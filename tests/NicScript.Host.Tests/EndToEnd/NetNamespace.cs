using System.Diagnostics;

namespace NicScript.Host.Tests.EndToEnd;

/// <summary>A network namespace a test makes and removes, and commands run inside it.</summary>
internal sealed class NetNamespace : IDisposable
{
    public NetNamespace()
    {
        Name = "nsx" + Guid.NewGuid().ToString("n")[..8];
        Run("ip", "netns", "add", Name).EnsureOk();
    }

    public string Name { get; }

    /// <summary>Why a root-only test cannot run here, or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "needs Linux";
        if (Environment.UserName != "root" && !File.Exists("/proc/self/status")) return "needs root";
        if (File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:"))?.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] != "0") return "needs root";
        if (!File.Exists("/dev/net/tun")) return "needs /dev/net/tun";
        foreach (string tool in new[] { "ip", "ping", "tshark" })
            if (Which(tool) is null) return $"needs {tool} (.ci/run installs it)";
        return null;
    }

    public static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':').Append("/usr/sbin").Append("/sbin")
            .Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    /// <summary>Why iputils' <c>arping</c> (the one whose <c>-f</c>, <c>-w</c> and <c>-I</c> the tests and the README use) is not
    /// here, or null. Debian has another <c>arping</c> (Habets' 2.x, package <c>arping</c>) with other flags: judged by what the
    /// tool says it is, not by its name.</summary>
    public static string? IputilsArpingMissing()
    {
        if (Which("arping") is null) return "needs iputils arping (.ci/run installs iputils-arping)";
        Result v = Run("arping", "-V");
        return (v.Output + v.Error).Contains("iputils", StringComparison.Ordinal)
            ? null
            : "needs iputils arping; the arping here is another one (.ci/run installs iputils-arping)";
    }

    /// <summary>Stops a host the test started: SIGINT (it stops its V-Nodes, flushes its capture, removes its TAP device) and
    /// up to a minute for it; SIGKILL if it is still there. True when SIGINT stopped it. Call it from a <c>finally</c> and
    /// assert the result after the <c>try</c>, so a failure inside the test is the one reported.</summary>
    public static bool StopHost(Process host)
    {
        if (host.HasExited) return true;
        kill(host.Id, 2);
        if (host.WaitForExit(TimeSpan.FromSeconds(60))) return true;
        host.Kill(entireProcessTree: true);
        host.WaitForExit();
        return false;
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int kill(int pid, int signal);

    public Result Exec(params string[] command) => Run("ip", ["netns", "exec", Name, .. command]);

    public Process Start(params string[] command)
    {
        var psi = new ProcessStartInfo(Which("ip")!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "netns", "exec", Name }.Concat(command)) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>Waits for an interface to appear in the namespace.</summary>
    public bool WaitForLink(string ifname, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Run("ip", "-n", Name, "link", "show", ifname).ExitCode == 0) return true;
            Thread.Sleep(100);
        }
        return false;
    }

    public static Result Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(Which(tool) ?? tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd(), error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return new Result(p.ExitCode, output, error);
    }

    public void Dispose() => Run("ip", "netns", "del", Name);

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public Result EnsureOk() => ExitCode == 0 ? this : throw new InvalidOperationException($"exit {ExitCode}: {Error}{Output}");
    }
}
