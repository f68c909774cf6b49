namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>What steps learn while they run: the vport each port uuid got.</summary>
internal sealed class ApplyContext(Dictionary<string, uint> vports)
{
    public Dictionary<string, uint> Vports { get; } = vports;
}
