using System.CommandLine;
using NicScript.Host.Cli;

namespace NicScript.Host.Families;

/// <summary>A family's part in the <c>nicscript run</c> command: the options it adds, and their values once parsed.</summary>
/// <remarks>Made afresh for each command built (an option belongs to one command); the command line lists <see cref="Options"/>
/// after the generic ones and passes <see cref="Bind"/>'s result to <see cref="RunCommand"/> in <see cref="RunOptions.Families"/>.</remarks>
public abstract class RunPart
{
    /// <summary>The family's options, in the order <c>--help</c> lists them.</summary>
    public abstract IReadOnlyList<Option> Options { get; }

    /// <summary>The options' values in <paramref name="parse"/>.</summary>
    public abstract FamilyRunOptions Bind(ParseResult parse);
}
