using System.Text.RegularExpressions;

namespace NicScript.Host.Tests.Docs;

/// <summary>One shell example of the documentation: its commands, the output it shows after each, and how to run and
/// compare it (the <c>&lt;!-- doctest: … --&gt;</c> markers above it in the README).</summary>
/// <param name="Source">Where it is written, e.g. <c>README.md</c>.</param>
/// <param name="Line">The line of its first command (the test case's name).</param>
/// <param name="Steps">Its commands in order, each with the output shown after it.</param>
/// <param name="Markers">The markers above the block (<see cref="DoctestMarkers"/>).</param>
public sealed record ShellExample(string Source, int Line, IReadOnlyList<ShellStep> Steps, DoctestMarkers Markers)
{
    /// <summary>The first command, to name the example in a test list.</summary>
    public string Title => Steps.Count == 0 ? "" : Steps[0].Command.Length > 90 ? Steps[0].Command[..90] + "…" : Steps[0].Command;
}

/// <summary>One command of an example and what the documentation shows for it.</summary>
/// <param name="Command">The command as written (without the <c>$ </c> prompt; continuation lines joined).</param>
/// <param name="Line">Its line in the source.</param>
/// <param name="Expected">The output lines shown after it (empty: none shown, none compared).</param>
/// <param name="ExpectedExit">The exit status a comment on the line that ends in <c>exit N</c> documents (<c># exit 1</c>,
/// <c># lost requests: exit 1</c>); null: see the runner.</param>
public sealed record ShellStep(string Command, int Line, IReadOnlyList<string> Expected, int? ExpectedExit)
{
    private static readonly Regex ExitComment = new(@"#.*\bexit (\d+)\s*$", RegexOptions.CultureInvariant);

    /// <summary>The <c>exit N</c> a trailing comment documents, if any.</summary>
    public static int? DocumentedExit(string command)
    {
        Match m = ExitComment.Match(command);
        return m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }
}

/// <summary>The <c>&lt;!-- doctest: key="value" key … --&gt;</c> markers written on the lines just above a code block.</summary>
/// <remarks>
/// Design: the syntax is described once, in the HTML comment at the top of README.md (invisible when rendered):
/// <c>skip="why"</c> (never run: needs a terminal, a tool …), <c>root="why"</c> (run only as root, skipped elsewhere),
/// <c>needs="tool"</c> (skipped when the tool is not on PATH), <c>output</c> (this block is the shown output of the
/// example block before it), <c>mask-numbers</c> (every number, in what is shown and what is printed, compares as one
/// placeholder), <c>subset</c> (the shown lines must appear in this order, each inside one printed line; the lines
/// around them are not compared: log lines keep their time and V-Node prefix, tables stay free to change),
/// <c>unordered</c> (with subset: in any order, for lines of V-Nodes that run side by side),
/// <c>expect="line"</c> (a line the prose promises, for a block that shows no output: compared as <c>subset</c>),
/// <c>exit=N</c> (the last command's exit status), <c>setup="sh"</c> (run first, output ignored),
/// <c>replace="A=&gt;B"</c> (the bounded form: a text replacement in the commands before they run; repeatable),
/// <c>omit="PREFIX"</c> (commands that start with it are not run), <c>cleanup="sh"</c> (run at the end whatever happened:
/// what a recipe leaves behind on the machine, such as a network namespace).
/// </remarks>
public sealed record DoctestMarkers(
    string? Skip, string? Root, IReadOnlyList<string> Needs, bool Output, bool MaskNumbers, bool Subset, bool Unordered, IReadOnlyList<string> Expect, int? Exit,
    IReadOnlyList<string> Setup, IReadOnlyList<(string From, string To)> Replace, IReadOnlyList<string> Omit, IReadOnlyList<string> Cleanup)
{
    public static readonly DoctestMarkers None = new(null, null, [], false, false, false, false, [], null, [], [], [], []);

    private static readonly Regex Item = new(@"([a-z-]+)(?:=(?:""((?:[^""\\]|\\.)*)""|(\S+)))?", RegexOptions.CultureInvariant);

    /// <summary>Adds the markers of one <c>&lt;!-- doctest: … --&gt;</c> comment's body; an unknown key is an error (a typo
    /// must not silently turn a check off).</summary>
    public DoctestMarkers With(string body, string where)
    {
        DoctestMarkers m = this;
        foreach (Match item in Item.Matches(body))
        {
            string key = item.Groups[1].Value;
            string value = (item.Groups[2].Success ? item.Groups[2].Value.Replace("\\\"", "\"") : item.Groups[3].Value);
            m = key switch
            {
                "skip" => m with { Skip = value.Length > 0 ? value : "marked skip" },
                "root" => m with { Root = value.Length > 0 ? value : "runs as root" },
                "needs" => m with { Needs = [.. m.Needs, value] },
                "output" => m with { Output = true },
                "mask-numbers" => m with { MaskNumbers = true },
                "subset" => m with { Subset = true },
                "unordered" => m with { Subset = true, Unordered = true },
                "expect" => m with { Subset = true, Expect = [.. m.Expect, value] },
                "exit" => m with { Exit = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
                "setup" => m with { Setup = [.. m.Setup, value] },
                "replace" when value.Split("=>", 2) is [string from, string to] => m with { Replace = [.. m.Replace, (from, to)] },
                "omit" => m with { Omit = [.. m.Omit, value] },
                "cleanup" => m with { Cleanup = [.. m.Cleanup, value] },
                _ => throw new FormatException($"{where}: unknown doctest marker '{item.Value}'"),
            };
        }
        return m;
    }
}
