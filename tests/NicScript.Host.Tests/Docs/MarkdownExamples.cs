using System.Text.RegularExpressions;

namespace NicScript.Host.Tests.Docs;

/// <summary>Finds the shell examples of a Markdown file: fenced blocks tagged <c>sh</c>, <c>bash</c>, <c>console</c> or
/// <c>shell</c>, and untagged or indented blocks whose first line is a command (<c>$ …</c>, <c>nicscript …</c>,
/// <c>dotnet run … --project host …</c>).</summary>
/// <remarks>
/// Design: a block with <c>$ </c> prompts is console style: the lines after a command up to the next prompt are the
/// output shown for it. A block without prompts is a script: every line is a command and it shows no output, unless the
/// next block is marked <c>output</c>, which is then the shown output of its last command. A line ending in <c>\</c>
/// continues on the next. YAML, JSON, C#, JavaScript and REPL transcripts (<c>js&gt;</c>) are not shell examples.
/// </remarks>
public static class MarkdownExamples
{
    private static readonly Regex Marker = new(@"^\s*<!--\s*doctest:(.*?)-->\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex Fence = new(@"^(\s*)```\s*([A-Za-z0-9_+-]*)\s*$", RegexOptions.CultureInvariant);
    private static readonly string[] ShellTags = ["sh", "bash", "console", "shell"];

    /// <summary>The examples of <paramref name="markdown"/>, named by <paramref name="source"/> and line.</summary>
    public static IReadOnlyList<ShellExample> Parse(string markdown, string source)
    {
        string[] lines = markdown.Replace("\r\n", "\n").Split('\n');
        var examples = new List<ShellExample>();
        DoctestMarkers pending = DoctestMarkers.None;
        bool inIndented = false;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            if (Marker.Match(line) is { Success: true } m)
            {
                pending = pending.With(m.Groups[1].Value, $"{source}:{i + 1}");
                continue;
            }
            if (Fence.Match(line) is { Success: true } f)
            {
                int start = i + 1;
                int end = start;
                while (end < lines.Length && !lines[end].TrimStart().StartsWith("```", StringComparison.Ordinal)) end++;
                string indent = f.Groups[1].Value;
                var body = lines[start..Math.Min(end, lines.Length)].Select(l => l.StartsWith(indent, StringComparison.Ordinal) ? l[indent.Length..] : l).ToList();
                Add(examples, body, start + 1, f.Groups[2].Value, pending, source);
                pending = DoctestMarkers.None;
                i = end;
                continue;
            }
            // An indented code block (four spaces after a blank line) that starts with a prompt.
            if (!inIndented && line.StartsWith("    $ ", StringComparison.Ordinal) && (i == 0 || lines[i - 1].Trim().Length == 0))
            {
                int end = i;
                while (end < lines.Length && (lines[end].StartsWith("    ", StringComparison.Ordinal) || lines[end].Trim().Length == 0 && end + 1 < lines.Length && lines[end + 1].StartsWith("    ", StringComparison.Ordinal))) end++;
                Add(examples, lines[i..end].Select(l => l.Length >= 4 ? l[4..] : "").ToList(), i + 1, "", pending, source);
                pending = DoctestMarkers.None;
                i = end - 1;
                continue;
            }
            if (line.Trim().Length > 0) pending = DoctestMarkers.None; // markers belong to the block right below them
        }
        return examples;
    }

    private static void Add(List<ShellExample> examples, List<string> body, int firstLine, string tag, DoctestMarkers markers, string source)
    {
        while (body.Count > 0 && body[^1].Trim().Length == 0) body.RemoveAt(body.Count - 1);
        if (markers.Output)
        {
            if (examples.Count == 0 || examples[^1].Steps.Count == 0)
                throw new FormatException($"{source}:{firstLine}: an output block with no example before it");
            ShellExample previous = examples[^1];
            ShellStep last = previous.Steps[^1] with { Expected = body };
            // How the output compares may be said on either block.
            DoctestMarkers both = previous.Markers with
            {
                MaskNumbers = previous.Markers.MaskNumbers || markers.MaskNumbers, Subset = previous.Markers.Subset || markers.Subset,
                Unordered = previous.Markers.Unordered || markers.Unordered,
            };
            examples[^1] = previous with { Steps = [.. previous.Steps.Take(previous.Steps.Count - 1), last], Markers = both };
            return;
        }
        string first = body.FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
        bool shell = ShellTags.Contains(tag) || tag.Length == 0 && IsCommand(first);
        if (!shell || body.Count == 0) return;
        bool console = body.Any(l => l.StartsWith("$ ", StringComparison.Ordinal));
        var steps = new List<ShellStep>();
        for (int i = 0; i < body.Count; i++)
        {
            string l = body[i];
            if (console && !l.StartsWith("$ ", StringComparison.Ordinal)) continue;
            if (!console && l.Trim().Length == 0) continue;
            int at = firstLine + i;
            string command = console ? l[2..] : l;
            while (command.TrimEnd().EndsWith('\\') && i + 1 < body.Count)
                command = command.TrimEnd()[..^1] + " " + body[++i].Trim().TrimStart('>').Trim();
            var expected = new List<string>();
            if (console)
                for (int j = i + 1; j < body.Count && !body[j].StartsWith("$ ", StringComparison.Ordinal); j++) expected.Add(body[j]);
            steps.Add(new ShellStep(command, at, expected, ShellStep.DocumentedExit(command)));
        }
        if (steps.Count > 0 && markers.Expect.Count > 0) steps[^1] = steps[^1] with { Expected = [.. steps[^1].Expected, .. markers.Expect] };
        if (steps.Count > 0) examples.Add(new ShellExample(source, steps[0].Line, steps, markers));
    }

    /// <summary>Whether a line reads as a command of ours.</summary>
    public static bool IsCommand(string line) =>
        line.StartsWith("$ ", StringComparison.Ordinal) || line.StartsWith("nicscript ", StringComparison.Ordinal)
        || line.StartsWith("dotnet run ", StringComparison.Ordinal) && line.Contains("--project host", StringComparison.Ordinal);
}
