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
