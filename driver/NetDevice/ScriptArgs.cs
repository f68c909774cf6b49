using System.Globalization;

namespace NicScript.Driver.NetDevice;

/// <summary>Reads a script's plain object (a JavaScript object arrives as a string-keyed dictionary) field by field.</summary>
internal static class ScriptArgs
{
    public static bool Has(IDictionary<string, object?> d, string name) => d.TryGetValue(name, out object? v) && v is not null;

    /// <summary>A whole number field, or null when missing; throws INVALID_ARGS when present but not a whole number in range.</summary>
    public static long? Integer(IDictionary<string, object?> d, string name, long min, long max, string where)
    {
        if (!d.TryGetValue(name, out object? v) || v is null) return null;
        double x;
        try { x = Convert.ToDouble(v, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is InvalidCastException or FormatException)
        {
            throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"{where}: {name} must be a number, got {v}");
        }
        if (x != Math.Floor(x) || x < min || x > max)
            throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"{where}: {name} = {x} is not a whole number in {min}..{max}");
        return (long)x;
    }

    public static void RejectUnknown(IDictionary<string, object?> d, IReadOnlyCollection<string> known, string where)
    {
        foreach (string key in d.Keys)
            if (!known.Contains(key))
                throw new ZxException(ZxStatus.ZX_ERR_INVALID_ARGS, $"{where}: unknown field '{key}' (known: {string.Join(", ", known)})");
    }
}
