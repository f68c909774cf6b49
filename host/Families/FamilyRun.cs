using NicScript.Driver;
using NicScript.Host.Manifests;
using Serilog;

namespace NicScript.Host.Families;

/// <summary>What a family's run service is made for: the run's machine, the machine file it came from (null: the default
/// machine), the run's log, and where a line for the user goes (stderr).</summary>
public sealed record FamilyRun(Machine Machine, MachineSpec? Spec, ILogger Log, TextWriter Error);
