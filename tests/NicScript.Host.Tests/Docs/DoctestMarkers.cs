using System.Text.RegularExpressions;

namespace NicScript.Host.Tests.Docs;

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
