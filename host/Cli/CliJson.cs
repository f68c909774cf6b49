using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace NicScript.Host.Cli;

/// <summary>The one way commands write JSON (<c>--json</c>, <c>--jsonl</c>, <c>plan -o</c>): readable as written.</summary>
/// <remarks>
/// Design: System.Text.Json's default encoder escapes HTML-sensitive characters and all non-ASCII (<c>&gt;</c> becomes
/// <c>\u003E</c>, <c>µ</c> <c>\u00B5</c>), a guard for JSON pasted into HTML that our output never is. The relaxed encoder
/// escapes only what JSON requires (quote, backslash, control characters) and what it cannot pass through (a character
/// outside the Basic Multilingual Plane, which it writes as a surrogate pair); <c>jq</c> and every JSON parser read both
/// the same. One options object for every command, so no command can drift back to the default.
/// </remarks>
public static class CliJson
{
    /// <summary>Compact, relaxed escaping; a NaN or infinity in a script's value is written as a string, not a crash.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary><see cref="Options"/>, indented: for files people open (<c>plan -o</c>).</summary>
    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };

    /// <summary>The same escaping for <see cref="Utf8JsonWriter"/>s (line by line output).</summary>
    public static JsonWriterOptions Writer { get; } = new() { Encoder = Options.Encoder, Indented = false };

    /// <summary><paramref name="node"/> as one line of JSON.</summary>
    public static string Text(JsonNode node) => node.ToJsonString(Options);
}
