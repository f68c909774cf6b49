using System.Globalization;
using System.Text.RegularExpressions;

namespace NicScript.Host.Cli;

/// <summary>Reads durations as people type them: <c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>, or plain seconds (<c>2.5</c>).</summary>
public static partial class DurationParser
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        Match m = Pattern().Match(text.Trim());
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double n)) return false;
        double ms = m.Groups[2].Value switch
        {
            "ms" => n,
            "" or "s" => n * 1000,
            "m" => n * 60_000,
            "h" => n * 3_600_000,
            _ => double.NaN,
        };
        if (double.IsNaN(ms) || ms <= 0 || ms > TimeSpan.MaxValue.TotalMilliseconds) return false;
        duration = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")]
    private static partial Regex Pattern();
}
