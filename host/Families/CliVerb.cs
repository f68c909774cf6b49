using System.CommandLine;
using NicScript.Host.Cli;

namespace NicScript.Host.Families;

/// <summary>A top-level <c>nicscript</c> verb a family adds: its name and how it is built.</summary>
public sealed record CliVerb(string Name, Func<CliContext, Command> Build);
