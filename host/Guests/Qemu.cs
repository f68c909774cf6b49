using System.Diagnostics;
using System.Text.RegularExpressions;

namespace NicScript.Host.Guests;

/// <summary>A <c>qemu-system-x86_64</c> that can attach NicScript's functions: version 10.1 or later (the vfio-user client
/// arrived then) whose <c>-device help</c> lists <c>vfio-user-pci</c>. Found by behaviour, so the one <c>.ci/guest-setup</c>
/// installs and a qualifying one on PATH serve alike.</summary>
/// <param name="Version">Its <c>--version</c> line (<c>QEMU emulator version 11.1.3 …</c>).</param>
public sealed partial record Qemu(string Path, string Version)
{
    /// <summary>How to get one, for the messages that say none was found.</summary>
    public const string InstallHint = "`bash .ci/guest-setup` installs one";

    /// <summary>Where <c>.ci/guest-setup</c> puts QEMU, the guest kernel and busybox: <c>NICSCRIPT_GUEST_DIR</c>, else
    /// root's and the user's cache.</summary>
    public static IReadOnlyList<string> SetupDirectories()
    {
        var dirs = new List<string>();
        string? chosen = Environment.GetEnvironmentVariable("NICSCRIPT_GUEST_DIR");
        if (!string.IsNullOrEmpty(chosen)) dirs.Add(chosen);
        dirs.Add("/var/cache/nicscript-guest");
        string? cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache)) cache = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        dirs.Add(System.IO.Path.Combine(cache, "nicscript-guest"));
        return dirs;
    }

    /// <summary>The first QEMU that qualifies: <paramref name="chosen"/> alone when given (<c>--qemu</c>), else
    /// <c>NICSCRIPT_QEMU</c>, the setup's wrapper in each <see cref="SetupDirectories"/>, then PATH.</summary>
    /// <param name="whyNot">When none qualifies: what was found and why each was refused, and <see cref="InstallHint"/>.</param>
    public static Qemu? Find(string? chosen, out string whyNot)
    {
        var rejected = new List<string>();
        foreach (string candidate in Candidates(chosen))
        {
            string? why = Check(candidate, out string? version);
            if (why is null)
            {
                whyNot = "";
                return new Qemu(candidate, version!);
            }
            rejected.Add($"{candidate}: {why}");
        }
        whyNot = "no QEMU >= 10.1 with the vfio-user client (-device vfio-user-pci)"
            + (rejected.Count > 0 ? " (" + string.Join("; ", rejected) + ")" : " found") + "; " + InstallHint;
        return null;
    }

    private static IEnumerable<string> Candidates(string? chosen)
    {
        if (chosen is not null)
        {
            yield return chosen;
            yield break;
        }
        string? env = Environment.GetEnvironmentVariable("NICSCRIPT_QEMU");
        if (!string.IsNullOrEmpty(env)) yield return env;
        foreach (string dir in SetupDirectories())
        {
            string wrapper = System.IO.Path.Combine(dir, "bin", "qemu-system-x86_64");
            if (File.Exists(wrapper)) yield return wrapper;
        }
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string onPath = System.IO.Path.Combine(dir, "qemu-system-x86_64");
            if (File.Exists(onPath)) yield return onPath;
        }
    }

    /// <summary>Null when <paramref name="qemu"/> is new enough and has the vfio-user client; else why not.</summary>
    private static string? Check(string qemu, out string? version)
    {
        version = null;
        (int exit, string output) = RunQuick(qemu, "--version");
        Match m = VersionLine().Match(output);
        if (exit != 0 || !m.Success) return $"--version said {output.Trim()}";
        version = m.Value;
        var v = new Version(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        if (v < new Version(10, 1)) return $"version {v} (vfio-user-pci arrived in 10.1)";
        (exit, output) = RunQuick(qemu, "-machine", "none", "-device", "help");
        return exit == 0 && output.Contains("\"vfio-user-pci\"", StringComparison.Ordinal) ? null : "-device help does not list vfio-user-pci";
    }

    private static (int Exit, string Output) RunQuick(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        try
        {
            using Process p = Process.Start(psi)!;
            Task<string> error = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromSeconds(30))) { p.Kill(); return (-1, "no answer within 30 s"); }
            return (p.ExitCode, output + error.Result);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }

    [GeneratedRegex(@"QEMU emulator version (\d+)\.(\d+)[^\n]*")]
    private static partial Regex VersionLine();
}
