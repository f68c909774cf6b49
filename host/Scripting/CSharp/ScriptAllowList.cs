using System.Collections.Frozen;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>The parsed <see cref="AllowListText"/>: which external types and members a C# script may reference.</summary>
/// <remarks>
/// Names are metadata names: namespace, type name with its generic arity (<c>List`1</c>), nested types after <c>+</c>,
/// members by their metadata name (<c>.ctor</c>, <c>get_Length</c>, <c>op_Equality</c>). Deny by default: a type
/// without an entry (or below a namespace entry) is refused, and so is a member its entry does not name.
/// </remarks>
internal sealed class ScriptAllowList
{
    public static ScriptAllowList Default { get; } = Parse(AllowListText.Text);

    private readonly FrozenDictionary<string, Entry> _types;
    private readonly (string Prefix, Entry Entry)[] _namespaces; // longest prefix first

    private ScriptAllowList(Dictionary<string, Entry> types, List<(string, Entry)> namespaces)
    {
        _types = types.ToFrozenDictionary(StringComparer.Ordinal);
        _namespaces = [.. namespaces.OrderByDescending(n => n.Item1.Length)];
    }

    /// <summary>One line of the list: a type (or a namespace) and what of it is allowed.</summary>
    public sealed record Entry(string Reason, bool IlOnly, bool AllMembers, FrozenSet<string> Members, FrozenSet<string> Except,
        FrozenSet<string> RefusedSignatureTypes, FrozenSet<string> DataOnlyMembers, bool ScriptApi, bool HelperOnly, bool OwnSignaturesOnly);

    /// <summary>The entry that allows <paramref name="typeName"/>, or null. Source code may not use il-only entries.</summary>
    public Entry? Type(string typeName, bool fromSource)
    {
        Entry? e = Find(typeName);
        return e is null || fromSource && (e.IlOnly || e.HelperOnly) ? null : e;
    }

    private Entry? Find(string typeName)
    {
        if (_types.TryGetValue(typeName, out Entry? e)) return e;
        // A nested type of an entry that allows all members is allowed like it (enumerators, builders).
        int plus = typeName.LastIndexOf('+');
        if (plus > 0 && Find(typeName[..plus]) is { AllMembers: true, Except.Count: 0 } outer) return outer;
        string ns = typeName.Contains('.') ? typeName[..typeName.LastIndexOf('.')] : "";
        foreach ((string prefix, Entry entry) in _namespaces)
            if (ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal)) return entry;
        return null;
    }

    /// <summary>
    /// Whether <paramref name="member"/> (a metadata name) of a type with <paramref name="entry"/> is allowed.
    /// <paramref name="isScriptApi"/> answers whether the member is on the script surface (<see cref="ScriptSurface"/>; asked only for [ScriptApi] entries).
    /// </summary>
    public static bool AllowsMember(Entry entry, string member, Func<bool> isScriptApi)
    {
        bool setter = member.StartsWith("set_", StringComparison.Ordinal);
        string property = Property(member);
        if (entry.Except.Contains(member) || !setter && entry.Except.Contains(property)) return false;
        if (entry.AllMembers || entry.Members.Contains(member) || entry.DataOnlyMembers.Contains(member)) return true;
        if (member.StartsWith("get_", StringComparison.Ordinal) && (entry.Members.Contains(property) || entry.DataOnlyMembers.Contains(property))) return true;
        return entry.ScriptApi && isScriptApi();
    }

    private static string Property(string member) =>
        member.StartsWith("get_", StringComparison.Ordinal) || member.StartsWith("set_", StringComparison.Ordinal) ? member[4..] : member;

    /// <summary>Parses the list's text; a malformed line is a NicScript bug (the list ships with the build).</summary>
    public static ScriptAllowList Parse(string text)
    {
        var types = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var namespaces = new List<(string, Entry)>();
        string reason = "";
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith("##", StringComparison.Ordinal)) { reason = line[2..].Trim(); continue; }
            if (line.StartsWith('#')) continue;
            bool ilOnly = line.StartsWith("il-only ", StringComparison.Ordinal);
            if (ilOnly) line = line["il-only ".Length..].Trim();
            bool ownSignatures = line.StartsWith("own-signatures ", StringComparison.Ordinal);
            if (ownSignatures) line = line["own-signatures ".Length..].Trim();
            bool helperOnly = line.StartsWith("helper-only ", StringComparison.Ordinal);
            if (helperOnly) line = line["helper-only ".Length..].Trim();
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            string name = colon < 0 ? line : line[..colon].Trim();
            string[] tokens = colon < 0 ? ["*"] : line[(colon + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            bool all = false, scriptApi = false;
            var members = new HashSet<string>(StringComparer.Ordinal);
            var except = new HashSet<string>(StringComparer.Ordinal);
            var refusedSig = new HashSet<string>(StringComparer.Ordinal);
            var dataOnly = new HashSet<string>(StringComparer.Ordinal);
            foreach (string t in tokens)
            {
                if (t == "*") all = true;
                else if (t == "-*") { }
                else if (t == "[ScriptApi]") scriptApi = true;
                else if (t.StartsWith('-')) except.Add(t[1..]);
                else if (t.StartsWith('!')) refusedSig.Add(t[1..]);
                else if (t.EndsWith("<data>", StringComparison.Ordinal)) dataOnly.Add(t[..^"<data>".Length]);
                else members.Add(t);
            }
            if (reason.Length == 0 || types.ContainsKey(name)) throw new InvalidOperationException("allow-list: bad or repeated entry: " + raw);
            var entry = new Entry(reason, ilOnly, all, members.ToFrozenSet(StringComparer.Ordinal), except.ToFrozenSet(StringComparer.Ordinal),
                refusedSig.ToFrozenSet(StringComparer.Ordinal), dataOnly.ToFrozenSet(StringComparer.Ordinal), scriptApi, helperOnly, ownSignatures);
            if (name.EndsWith(".*", StringComparison.Ordinal)) namespaces.Add((name[..^2], entry));
            else types.Add(name, entry);
        }
        return new ScriptAllowList(types, namespaces);
    }
}
