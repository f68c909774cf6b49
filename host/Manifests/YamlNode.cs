using System.Globalization;
using System.Text.RegularExpressions;

namespace NicScript.Host.Manifests;

/// <summary>A YAML node with the line and column where it starts: what every manifest error points at.</summary>
/// <remarks>
/// Our own small tree (not YamlDotNet's representation model) so duplicate keys are caught with both places,
/// and so a scalar keeps whether it was quoted: <c>11</c> is an integer, <c>"11"</c> is a string.
/// </remarks>
internal abstract record YamlNode(int Line, int Column)
{
    public abstract string Describe { get; }
}

internal sealed partial record YamlScalar(string Value, bool Plain, int Line, int Column) : YamlNode(Line, Column)
{
    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    public bool IsBool => Plain && Value is "true" or "false" or "True" or "False" or "TRUE" or "FALSE";

    public bool TryInt(out long value)
    {
        value = 0;
        if (!Plain) return false;
        if (DecimalInt().IsMatch(Value)) return long.TryParse(Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        if (Value.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return long.TryParse(Value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        return false;
    }

    public bool TryNumber(out double value)
    {
        value = 0;
        if (TryInt(out long i)) { value = i; return true; }
        return Plain && Float().IsMatch(Value) && double.TryParse(Value, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    public override string Describe =>
        IsNull ? "null" : IsBool ? "a boolean" : TryInt(out _) ? "an integer" : TryNumber(out _) ? "a number" : "a string";

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex DecimalInt();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}

internal sealed record YamlSequence(IReadOnlyList<YamlNode> Items, int Line, int Column) : YamlNode(Line, Column)
{
    public override string Describe => "a list";
}

internal sealed record YamlMapping(IReadOnlyList<KeyValuePair<YamlScalar, YamlNode>> Entries, int Line, int Column) : YamlNode(Line, Column)
{
    public override string Describe => "a mapping";

    public YamlNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key).Value;
}
