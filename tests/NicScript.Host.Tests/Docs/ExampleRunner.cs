using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace NicScript.Host.Tests.Docs;

/// <summary>Runs a documentation example in bash against the built CLI and compares what it prints with what the
/// documentation shows.</summary>
/// <remarks>
/// Design: the example runs as one bash script (so pipes, <c>&amp;</c>, <c>echo $?</c> and redirections work as a user's
/// shell runs them) in a fresh folder whose <c>manifests</c>, <c>scripts</c> … link to the repository's (read only; what
/// an example writes lands in the folder). <c>dotnet run --project host --</c> is the built program: a <c>nicscript</c>
/// wrapper on PATH runs the <c>nicscript.dll</c> beside the tests, so <c>ip netns exec … nicscript</c> works too. Output
/// is piped (stdout and stderr as one stream, as a terminal shows them) with <c>NO_COLOR</c>: the plain form is what
/// is compared. A marker line between commands splits the output per command and records its exit status. HOME is the
/// folder (nothing is written to the user's state); compiled C# scripts share one cache for the whole test run.
/// </remarks>
internal static class ExampleRunner
{
    private const string StepMark = "@@doctest-step ";
    private const string ExitMark = "@@doctest-exit ";
    private static readonly string[] Linked = ["manifests", "scripts", "host", "driver", "tests", "tools", "NicScript.sln", "README.md", "Directory.Build.props", "Directory.Packages.props"];
    private static readonly Lazy<string> Bin = new(MakeBin);
    private static readonly string Cache = Directory.CreateTempSubdirectory("nicscript-doctest-cache-").FullName;

    /// <summary>What one command printed and how it exited.</summary>
    public sealed record StepResult(ShellStep Step, string Output, int? Exit);

    /// <summary>A fresh working folder that looks like the repository root.</summary>
    public static TempDir MakeWorkDir()
    {
        var dir = new TempDir();
        foreach (string name in Linked)
        {
            string target = Path.Combine(Repo.Root, name);
            if (Path.Exists(target)) File.CreateSymbolicLink(Path.Combine(dir.Path, name), target);
        }
        Directory.CreateDirectory(Path.Combine(dir.Path, "home"));
        return dir;
    }

    /// <summary>The command as it runs: the README's ways of starting the program become the built one, and the
    /// example's <c>replace</c> markers applied.</summary>
    public static string Rewrite(string command, DoctestMarkers markers)
    {
        foreach ((string from, string to) in markers.Replace) command = command.Replace(from, to, StringComparison.Ordinal);
        return command.Replace("dotnet run -c Release --project host -- ", "nicscript ", StringComparison.Ordinal)
                      .Replace("dotnet run --project host -- ", "nicscript ", StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="example"/> in <paramref name="workDir"/>; fails the test when it does not end within
    /// <paramref name="timeout"/> (a hang guard).</summary>
    public static IReadOnlyList<StepResult> Run(ShellExample example, string workDir, TimeSpan timeout)
    {
        var script = new StringBuilder();
        script.AppendLine("exec 2>&1");
        // A function, so bash runs the program without exec'ing a file this process just wrote (the wrapper on PATH is
        // for what bash does not run itself: ip netns exec, xargs).
        script.AppendLine($"nicscript() {{ dotnet '{Path.Combine(AppContext.BaseDirectory, "nicscript.dll")}' \"$@\"; }}; export -f nicscript");
        script.AppendLine("set -m 2>/dev/null || true"); // background jobs in their own group, so SIGINT reaches them
        foreach (string setup in example.Markers.Setup) script.AppendLine($"{{ {setup}\n}} >/dev/null 2>&1");
        script.AppendLine("__rc=0");
        for (int i = 0; i < example.Steps.Count; i++)
        {
            ShellStep step = example.Steps[i];
            if (example.Markers.Omit.Any(p => step.Command.StartsWith(p, StringComparison.Ordinal))) continue;
            script.AppendLine($"printf '\\n{StepMark}{i}\\n'; (exit $__rc)");
            script.AppendLine(Rewrite(step.Command, example.Markers));
            script.AppendLine($"__rc=$?; printf '\\n{ExitMark}{i} %d\\n' \"$__rc\"");
        }
        // Whatever an example left in the background (serve &) ends with it.
        // Whole groups: a job is a subshell running the nicscript function, and the program is its child.
        script.AppendLine("for j in $(jobs -p); do kill -TERM -- -\"$j\" 2>/dev/null || kill -TERM \"$j\" 2>/dev/null; done; wait");
        foreach (string cleanup in example.Markers.Cleanup) script.AppendLine($"{{ {cleanup}\n}} >/dev/null 2>&1");
        string file = Path.Combine(workDir, ".doctest.sh");
        File.WriteAllText(file, script.ToString());

        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = workDir };
        psi.ArgumentList.Add(file);
        psi.Environment["PATH"] = Bin.Value + ":" + Environment.GetEnvironmentVariable("PATH");
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["HOME"] = Path.Combine(workDir, "home");
        psi.Environment["NICSCRIPT_CACHE"] = Cache;
        psi.Environment.Remove("XDG_STATE_HOME");
        psi.Environment.Remove("XDG_CACHE_HOME");
        psi.Environment["COLUMNS"] = "200";
        using Process p = Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        Task<string> error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"{example.Source}:{example.Line}: `{example.Title}` did not end within {timeout.TotalSeconds:0} s (a long-running example needs a bounded form: a replace marker)\noutput so far:\n{Tail(output)}");
        }
        p.WaitForExit();
        return Split(example, output.Result + error.Result);
    }

    private static string Tail(Task<string> output) => output.Wait(TimeSpan.FromSeconds(5)) ? output.Result : "(none)";

    private static List<StepResult> Split(ShellExample example, string all)
    {
        var results = new List<StepResult>();
        string[] lines = all.Replace("\r\n", "\n").Split('\n');
        int? current = null;
        var buffer = new List<string>();
        foreach (string line in lines)
        {
            if (line.StartsWith(StepMark, StringComparison.Ordinal))
            {
                current = int.Parse(line[StepMark.Length..], System.Globalization.CultureInfo.InvariantCulture);
                buffer.Clear();
            }
            else if (line.StartsWith(ExitMark, StringComparison.Ordinal) && current is int index)
            {
                string[] parts = line[ExitMark.Length..].Split(' ');
                if (buffer.Count > 0 && buffer[^1].Length == 0) buffer.RemoveAt(buffer.Count - 1); // the newline before the mark
                results.Add(new StepResult(example.Steps[index], string.Join('\n', buffer), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)));
                current = null;
            }
            else buffer.Add(line);
        }
        return results;
    }

    /// <summary>Checks every command's exit status and shown output; one failure message for all that differ.</summary>
    /// <remarks>
    /// Design: a command must exit 0 unless a <c># exit N</c> comment on it, the example's <c>exit=N</c> marker (for its
    /// last command) or a following <c>echo $?</c> (whose shown output then checks it) says otherwise. Shown output is
    /// compared line by line (trailing blanks ignored): a line <c>...</c> stands for any number of lines, <c>…</c> in a
    /// line for any text, and with <c>mask-numbers</c> every number compares equal to every other; <c>subset</c> puts a
    /// <c>...</c> around every shown line and lets it match inside a printed line; <c>unordered</c> drops the order. Without those the comparison is exact.
    /// </remarks>
    public static void Verify(ShellExample example, IReadOnlyList<StepResult> results)
    {
        var problems = new StringBuilder();
        var ran = example.Steps.Where(s => !example.Markers.Omit.Any(p => s.Command.StartsWith(p, StringComparison.Ordinal))).ToList();
        if (results.Count != ran.Count)
            problems.AppendLine($"ran {results.Count} of {ran.Count} commands (the script stopped early)");
        for (int i = 0; i < results.Count; i++)
        {
            StepResult r = results[i];
            bool last = ReferenceEquals(r.Step, ran[^1]);
            bool echoNext = i + 1 < ran.Count && ran[i + 1].Command.Trim() == "echo $?";
            int? expectedExit = r.Step.ExpectedExit ?? (last ? example.Markers.Exit : null) ?? (echoNext ? null : 0);
            if (expectedExit is int e && r.Exit != e)
                problems.AppendLine($"{example.Source}:{r.Step.Line}: `{r.Step.Command}` exited {r.Exit}, expected {e}\n--- it printed:\n{r.Output}\n---");
            if (r.Step.Expected.Count > 0 && !Matches(r.Step.Expected, r.Output, example.Markers.MaskNumbers, example.Markers.Subset, example.Markers.Unordered))
                problems.AppendLine($"{example.Source}:{r.Step.Line}: `{r.Step.Command}` printed other than shown\n--- shown:\n{string.Join('\n', r.Step.Expected)}\n--- printed:\n{r.Output}\n---");
        }
        if (problems.Length > 0) Assert.Fail(problems.ToString());
    }

    private static readonly Regex Number = new(@"\d[\d,.]*\d|\d", RegexOptions.CultureInvariant);

    /// <summary>Whether <paramref name="actual"/> is what <paramref name="shown"/> shows (see <see cref="Verify"/>).</summary>
    public static bool Matches(IReadOnlyList<string> shown, string actual, bool maskNumbers, bool subset = false, bool unordered = false)
    {
        if (unordered)
        {
            // Each shown line inside its own printed line, in any order.
            var left = actual.Split('\n').Select(l => maskNumbers ? Number.Replace(l, "#") : l).ToList();
            foreach (string line in shown.Where(l => l.Trim().Length > 0 && l.Trim() != "..."))
            {
                string one = maskNumbers ? Number.Replace(line.Trim(), "#") : line.Trim();
                var pattern = new Regex(Regex.Escape(one).Replace("…", ".*", StringComparison.Ordinal), RegexOptions.CultureInvariant);
                int at = left.FindIndex(pattern.IsMatch);
                if (at < 0) return false;
                left.RemoveAt(at);
            }
            return true;
        }
        if (subset) shown = [.. shown.Where(l => l.Trim() != "...").SelectMany(l => new[] { "...", "…" + l.Trim() + "…" }), "..."];
        string Norm(string s) => maskNumbers ? Number.Replace(s.TrimEnd(), "#") : s.TrimEnd();
        var want = shown.Select(Norm).ToList();
        while (want.Count > 0 && want[^1].Length == 0) want.RemoveAt(want.Count - 1);
        var got = actual.Split('\n').Select(Norm).ToList();
        while (got.Count > 0 && got[^1].Length == 0) got.RemoveAt(got.Count - 1);
        var patterns = want.Select(w => w.Trim() == "..." ? null : new Regex("^" + Regex.Escape(w).Replace("…", ".*", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant)).ToList();
        var memo = new Dictionary<(int, int), bool>();
        bool From(int wi, int gi)
        {
            if (memo.TryGetValue((wi, gi), out bool known)) return known;
            bool result;
            if (wi == patterns.Count) result = gi == got.Count;
            else if (patterns[wi] is null) result = From(wi + 1, gi) || gi < got.Count && From(wi, gi + 1);
            else result = gi < got.Count && patterns[wi]!.IsMatch(got[gi]) && From(wi + 1, gi + 1);
            memo[(wi, gi)] = result;
            return result;
        }
        return From(0, 0);
    }

    private static string MakeBin()
    {
        string bin = Directory.CreateTempSubdirectory("nicscript-doctest-bin-").FullName;
        string wrapper = Path.Combine(bin, "nicscript");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "nicscript.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return bin;
    }
}
