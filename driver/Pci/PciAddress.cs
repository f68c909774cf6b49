using System.Globalization;

namespace NicScript.Driver.Pci;

/// <summary>A PCI function's address: segment, bus, device, function. Parsed once; printed as <c>0000:00:1f.0</c>.</summary>
public readonly record struct PciAddress(ushort Segment, byte Bus, byte Device, byte Function)
{
    public const int MaxDevice = 0x1F, MaxFunction = 7;

    /// <summary><c>00:1f.0</c>, the form lspci prints for segment 0.</summary>
    public string Short => Segment == 0 ? $"{Bus:x2}:{Device:x2}.{Function:x}" : ToString();

    public override string ToString() => $"{Segment:x4}:{Bus:x2}:{Device:x2}.{Function:x}";

    public static PciAddress Parse(string text) =>
        TryParse(text, out PciAddress a, out string? error) ? a : throw new FormatException(error);

    /// <summary>
    /// Accepts <c>0x00:0x1F:0x0</c> (bus:device:function, each with <c>0x</c>), <c>00:1f.0</c> (bus:device.function)
    /// and <c>0000:00:1f.0</c> (segment:bus:device.function), hex, any case.
    /// </summary>
    public static bool TryParse(string? text, out PciAddress address, out string? error)
    {
        address = default;
        string s = (text ?? "").Trim();
        string[] colon = s.Split(':');
        string[] fields;
        if (colon.Length == 3 && colon.All(p => p.StartsWith("0x", StringComparison.OrdinalIgnoreCase)))
            fields = ["0", colon[0][2..], colon[1][2..], colon[2][2..]];
        else if ((colon.Length == 2 || colon.Length == 3) && colon[^1].Split('.') is [var dev, var fn])
            fields = colon.Length == 3 ? [colon[0], colon[1], dev, fn] : ["0", colon[0], dev, fn];
        else
        {
            error = $"'{s}' is not a PCI address (expected \"0x00:0x1F:0x0\", \"00:1f.0\" or \"0000:00:1f.0\")";
            return false;
        }

        Span<uint> v = stackalloc uint[4];
        ReadOnlySpan<string> names = ["segment", "bus", "device", "function"];
        ReadOnlySpan<uint> max = [0xFFFF, 0xFF, MaxDevice, MaxFunction];
        for (int i = 0; i < 4; i++)
        {
            if (fields[i].Length == 0 || fields[i].Length > 4 ||
                !uint.TryParse(fields[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v[i]))
            {
                error = $"'{s}': {names[i]} '{fields[i]}' is not a hex number";
                return false;
            }
            if (v[i] > max[i])
            {
                error = $"'{s}': {names[i]} 0x{v[i]:x} out of range 0x0-0x{max[i]:x}";
                return false;
            }
        }
        address = new PciAddress((ushort)v[0], (byte)v[1], (byte)v[2], (byte)v[3]);
        error = null;
        return true;
    }
}
