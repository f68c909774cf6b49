using System.Text.RegularExpressions;

namespace NicScript.Host.Tests.Docs;

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
