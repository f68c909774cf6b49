using System.Collections.Frozen;

namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>The 53 GDMA/MANA wire structures of gdma.md §8.1 (the tables are generated into GdmaLayouts.g.cs).</summary>
public static partial class GdmaLayouts
{
    private static FrozenDictionary<string, GdmaLayout>? _byName;

    /// <summary>A type by its exact (case-sensitive) CLI name.</summary>
    public static bool TryFind(string name, out GdmaLayout layout)
    {
        _byName ??= All.ToFrozenDictionary(l => l.Name, StringComparer.Ordinal);
        return _byName.TryGetValue(name, out layout!);
    }
}
