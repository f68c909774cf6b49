using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NicScript.Driver;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Where compiled C# scripts are kept, by a hash of everything that shapes the compiled code. Knows no Roslyn.</summary>
/// <remarks>
/// The key covers the format version, the nicscript and NicScript.Driver builds (module version ids), the
/// script's full path (it is in the PDB) and text, and the text of every sibling it <c>#load</c>s, recursively. A hit
/// is loaded without touching Roslyn; that is what makes a warm start cheap.
/// </remarks>
public sealed partial class ScriptCache
{
    private const string FormatVersion = "nicscript-csx-1";

    public ScriptCache(string? directory = null) => Directory = directory ?? DefaultDirectory();

    public string Directory { get; }

    public static string DefaultDirectory()
    {
        if (Environment.GetEnvironmentVariable("NICSCRIPT_CACHE") is { Length: > 0 } explicitDir) return explicitDir;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "nicscript", "csx");
    }

    /// <summary>The key of the script at <paramref name="fullPath"/> as it is on disk now.</summary>
    public static string Key(string fullPath)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Add(sha, FormatVersion);
        Add(sha, typeof(ScriptCache).Assembly.ManifestModule.ModuleVersionId.ToString());
        Add(sha, typeof(Machine).Assembly.ManifestModule.ModuleVersionId.ToString());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        AddScript(sha, fullPath, seen);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static void AddScript(IncrementalHash sha, string fullPath, HashSet<string> seen)
    {
        if (!seen.Add(fullPath)) return;
        Add(sha, fullPath);
        string folder = Path.GetDirectoryName(fullPath)!;
        string text;
        // What the compiler would read, through the same door; a refusal is part of the key, so it is a miss and the compile says why.
        try { text = seen.Count == 1 ? InputFile.ReadText(fullPath, InputFile.MaxScriptBytes, "scripts") : SiblingFile.Read(folder, fullPath); }
        catch (InputFileException e) { text = "\0refused: " + e.Reason; }
        Add(sha, text);
        foreach (Match m in LoadDirective().Matches(text))
            AddScript(sha, Path.Combine(folder, m.Groups[1].Value), seen);
    }

    private static void Add(IncrementalHash sha, string s)
    {
        sha.AppendData(Encoding.UTF8.GetBytes(s));
        sha.AppendData([0]);
    }

    public string AssemblyPath(string key) => Path.Combine(Directory, key + ".dll");

    /// <summary>Stores a compiled script (its PDB embedded) atomically: a reader sees no file or the whole new one.</summary>
    public void Store(string key, ReadOnlySpan<byte> assembly)
    {
        System.IO.Directory.CreateDirectory(Directory);
        WriteAtomically(AssemblyPath(key), assembly);
    }

    private static void WriteAtomically(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = path + "." + Guid.NewGuid().ToString("n") + ".tmp";
        File.WriteAllBytes(temp, bytes.ToArray());
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Forgets a cached script that could not be loaded (truncated, corrupted).</summary>
    public void Evict(string key)
    {
        try { File.Delete(AssemblyPath(key)); }
        catch (IOException) { }
    }

    [GeneratedRegex(@"^\s*#load\s+""([^""/\\]+\.csx)""", RegexOptions.Multiline)]
    private static partial Regex LoadDirective();
}
