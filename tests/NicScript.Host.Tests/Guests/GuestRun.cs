using System.Text;

namespace NicScript.Host.Tests.Guests;

/// <summary>What a guest printed on its serial console, so far or in all, and how its QEMU ended. The scenario's
/// results are the console lines that carry <c>NSTEST KEY VALUE</c>; everything else is context for a failure message,
/// which always quotes the console: the driver's own words (a timeout, a panic) are the reason a test failed.</summary>
internal sealed class GuestRun(string scenario, IReadOnlyList<string> console, string state, TimeSpan elapsed)
{
    private const int TailLines = 40, NotableLines = 20;

    /// <summary>Every console line, escape sequences and carriage returns removed.</summary>
    public IReadOnlyList<string> Console { get; } = console;

    /// <summary>How long the guest had run (from QEMU's start) when this was taken.</summary>
    public TimeSpan Elapsed { get; } = elapsed;

    /// <summary>The <c>KEY VALUE</c> of every <c>NSTEST</c> line, in order (the marker may follow a kernel message
    /// that shares its line).</summary>
    public IEnumerable<string> Results
    {
        get
        {
            foreach (string line in Console)
            {
                int at = line.IndexOf("NSTEST ", StringComparison.Ordinal);
                if (at >= 0) yield return line[(at + "NSTEST ".Length)..].TrimEnd();
            }
        }
    }

    /// <summary>Whether <c>/init</c> ran the scenario to its end (<c>NSTEST done SCENARIO</c>).</summary>
    public bool Completed => TryValue("done", out string? done) && done.Split(' ')[0] == scenario;

    /// <summary>The value of the first <c>NSTEST KEY …</c> line; fails the test with the console when there is none.</summary>
    public string Value(string key) =>
        TryValue(key, out string? value) ? value : throw Xunit.Sdk.FailException.ForFailure(Explain($"the guest printed no \"NSTEST {key}\""));

    public bool TryValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
    {
        foreach (string result in Results)
        {
            if (result == key) { value = ""; return true; }
            if (result.StartsWith(key + " ", StringComparison.Ordinal)) { value = result[(key.Length + 1)..]; return true; }
        }
        value = null;
        return false;
    }

    /// <summary><paramref name="what"/> went wrong, with how QEMU stands and the console: its last lines, and before
    /// them the earlier lines that look like trouble (panics, oopses, errors, timeouts), which a long tail would hide.</summary>
    public string Explain(string what)
    {
        var text = new StringBuilder($"{what} (scenario {scenario}; {state}, {Elapsed.TotalSeconds:0.0} s after QEMU started).");
        int tailStart = Math.Max(0, Console.Count - TailLines);
        List<string> notable = Console.Take(tailStart).Where(IsTrouble).Take(NotableLines).ToList();
        if (notable.Count > 0)
        {
            text.Append("\nEarlier on the guest console:");
            foreach (string line in notable) text.Append("\n  ").Append(line);
        }
        text.Append(Console.Count == 0 ? "\nThe guest console stayed empty." : $"\nGuest console, last {Console.Count - tailStart} lines:");
        for (int i = tailStart; i < Console.Count; i++) text.Append("\n  ").Append(Console[i]);
        return text.ToString();
    }

    private static bool IsTrouble(string line) =>
        !line.Contains("command line:", StringComparison.OrdinalIgnoreCase) // it says panic=-1
        && (line.Contains("panic", StringComparison.OrdinalIgnoreCase) || line.Contains("BUG", StringComparison.Ordinal)
        || line.Contains("Oops", StringComparison.Ordinal) || line.Contains("error", StringComparison.OrdinalIgnoreCase)
        || line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("timed out", StringComparison.OrdinalIgnoreCase)
        || line.Contains("qemu-system", StringComparison.Ordinal));
}
