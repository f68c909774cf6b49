using Spectre.Console;
using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using NicScript.Host.Capabilities;
using NicScript.Host.Families;
using NicScript.Host.Manifests;
using NicScript.Host.Scripting;

namespace NicScript.Host.Repl;

/// <summary>Turns a result into text people read: byte arrays as a hex dump, collections as lists, objects as <c>name: value</c>
/// lines, handles as property tables.</summary>
public static class ReplFormatter
{
    public static string Format(object? value) => value switch
    {
        null => "",
        string s => s,
        byte[] bytes => HexDump(bytes),
        FrameBuffer frame => FrameView.Describe(frame.Read()),
        _ when FamilyFormat(value) is { } format => format(value), // a family's result type (MANA: a decoded GDMA structure)
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f when value.GetType().IsPrimitive => f.ToString(null, CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IDictionary dict => string.Join("\n", dict.Keys.Cast<object>().Select(k => $"{k}: {Inline(dict[k])}")),
        IDictionary<string, object?> fields => string.Join("\n", fields.Select(f => $"{f.Key}: {Inline(f.Value)}")), // a JavaScript object (net.SessionFlags)
        IEnumerable list when IsBytes(list, out byte[]? bytes) => HexDump(bytes!),
        IEnumerable list when list.Cast<object?>().ToArray() is { Length: > 0 } items && items.All(i => i is not null && HasScriptApi(i.GetType())) && items.Select(i => i!.GetType()).Distinct().Count() == 1 => Rows(items!),
        IEnumerable list => "[" + string.Join(", ", list.Cast<object?>().Select(Inline)) + "]",
        _ when HasScriptApi(value.GetType()) => Properties(value),
        _ => value.ToString() ?? "",
    };

    /// <summary>The format a device family gives <paramref name="value"/>'s type, or null.</summary>
    private static Func<object, string>? FamilyFormat(object value)
    {
        foreach (ReplFormat f in DeviceFamilies.Formats)
            if (f.Type.IsInstanceOfType(value)) return f.Format;
        return null;
    }

    private static string Inline(object? v) => v switch
    {
        null => "null",
        string s => $"\"{s}\"",
        IDictionary<string, object?> fields => "{" + string.Join(", ", fields.Select(f => $"{f.Key}: {Inline(f.Value)}")) + "}",
        _ => Format(v).Replace('\n', ' '),
    };

    /// <summary>16 bytes a line: offset, hex, ASCII.</summary>
    public static string HexDump(byte[] bytes)
    {
        var sb = new StringBuilder();
        for (int at = 0; at < bytes.Length; at += 16)
        {
            int n = Math.Min(16, bytes.Length - at);
            sb.Append(at.ToString("x4", CultureInfo.InvariantCulture)).Append("  ");
            for (int i = 0; i < 16; i++) sb.Append(i < n ? bytes[at + i].ToString("x2", CultureInfo.InvariantCulture) + " " : "   ").Append(i == 7 ? " " : "");
            sb.Append(' ');
            for (int i = 0; i < n; i++) sb.Append(bytes[at + i] is >= 0x20 and < 0x7f ? (char)bytes[at + i] : '.');
            if (at + 16 < bytes.Length) sb.Append('\n');
        }
        return sb.ToString();
    }

    private static bool IsBytes(IEnumerable list, out byte[]? bytes)
    {
        bytes = null;
        var items = list.Cast<object?>().ToArray();
        if (items.Length == 0 || items.Any(i => i is not (double or int or long) || !IsByte(Convert.ToDouble(i, CultureInfo.InvariantCulture)))) return false;
        bytes = items.Select(i => (byte)Convert.ToDouble(i, CultureInfo.InvariantCulture)).ToArray();
        return items.Length >= 16; // a short list of small numbers reads better as a list
    }

    private static bool IsByte(double d) => d is >= 0 and <= 255 && d % 1 == 0;

    private static bool HasScriptApi(Type t) => ScriptSurface.Properties(t).Any();

    /// <summary>A column's name: the property's JavaScript name, in both languages' sessions.</summary>
    private static string Column(PropertyInfo p) => ScriptSurface.Name(p, ScriptLanguage.JavaScript);

    /// <summary>A handle's [ScriptApi] properties as a table (a property that throws shows its error).</summary>
    private static string Properties(object value)
    {
        var table = new Spectre.Console.Table().Border(Spectre.Console.TableBorder.Rounded).Title(value.GetType().Name);
        table.AddColumns("property", "value");
        foreach (PropertyInfo p in ScriptSurface.Properties(value.GetType()))
        {
            string shown;
            try { shown = Inline(p.GetValue(value)); }
            catch (TargetInvocationException e) { shown = "(" + e.InnerException?.Message + ")"; }
            table.AddRow(Spectre.Console.Markup.Escape(Column(p)), Spectre.Console.Markup.Escape(shown));
        }
        return Render(table);
    }

    /// <summary>A list of handles as one table, a column per property.</summary>
    private static string Rows(object[] items)
    {
        PropertyInfo[] props = ScriptSurface.Properties(items[0].GetType()).ToArray();
        var table = new Spectre.Console.Table().Border(Spectre.Console.TableBorder.Rounded);
        foreach (PropertyInfo p in props) table.AddColumn(Column(p));
        foreach (object item in items)
            table.AddRow(props.Select(p => { try { return Spectre.Console.Markup.Escape(Inline(p.GetValue(item))); } catch (TargetInvocationException) { return "?"; } }).ToArray());
        return Render(table);
    }

    private static string Render(Spectre.Console.Rendering.IRenderable renderable)
    {
        var text = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.No,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            Out = new Spectre.Console.AnsiConsoleOutput(text),
        });
        console.Profile.Width = 120;
        console.Write(renderable);
        return text.ToString().TrimEnd();
    }
}
