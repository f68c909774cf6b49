using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace NicScript.Host.Scripting.CSharp;

/// <summary>Resolves <c>#load</c> only to a <c>.csx</c> file in the script's own folder; anything else resolves to nothing.</summary>
internal sealed class SiblingSourceResolver : SourceReferenceResolver
{
    private readonly string _folder;
    private readonly IReadOnlyDictionary<string, string>? _overrides;

    /// <param name="overrides">Texts to serve instead of the files (the budget-instrumented siblings), by full path.</param>
    public SiblingSourceResolver(string folder, IReadOnlyDictionary<string, string>? overrides = null)
    {
        _folder = folder;
        _overrides = overrides;
    }

    /// <summary>A bare file name ending in <c>.csx</c>: no folder part, no way out of the script's folder.</summary>
    public static bool IsSibling(string path) =>
        path.Length > 4 && path.EndsWith(".csx", StringComparison.Ordinal) && path.IndexOfAny(['/', '\\']) < 0 && path != ".." && !path.StartsWith('.');

    public override string? NormalizePath(string path, string? baseFilePath) => IsSibling(path) ? Path.Combine(_folder, path) : null;

    /// <summary>The sibling's path when there is an entry of that name (a file, a folder, a link, even a broken one): what
    /// it is and where it leads is <see cref="OpenRead"/>'s to check, so the error says why instead of "not found".</summary>
    public override string? ResolveReference(string path, string? baseFilePath)
    {
        if (!IsSibling(path)) return null;
        string full = Path.Combine(_folder, path);
        if (_overrides is not null && _overrides.ContainsKey(full)) return full;
        var entry = new FileInfo(full);
        return entry.Exists || entry.LinkTarget is not null || Directory.Exists(full) ? full : null;
    }

    /// <summary>The sibling's text through <see cref="SiblingFile"/>; a refusal is an <see cref="IOException"/>, which Roslyn
    /// reports at the <c>#load</c> line with its message.</summary>
    public override Stream OpenRead(string resolvedPath)
    {
        if (_overrides is not null && _overrides.TryGetValue(resolvedPath, out string? text))
            return new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text));
        try { return new MemoryStream(System.Text.Encoding.UTF8.GetBytes(SiblingFile.Read(_folder, resolvedPath))); }
        catch (InputFileException e) { throw new IOException(e.Message, e); }
    }

    public override bool Equals(object? other) => other is SiblingSourceResolver s && s._folder == _folder;

    public override int GetHashCode() => _folder.GetHashCode(StringComparison.Ordinal);
}

/// <summary>Resolves no <c>#r</c> at all: the allowed API is referenced already.</summary>
internal sealed class RefusingMetadataResolver : MetadataReferenceResolver
{
    public override ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties) => [];

    public override bool Equals(object? other) => other is RefusingMetadataResolver;

    public override int GetHashCode() => 1;
}
