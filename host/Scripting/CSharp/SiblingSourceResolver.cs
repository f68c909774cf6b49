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

    public override string? ResolveReference(string path, string? baseFilePath)
    {
        if (!IsSibling(path)) return null;
        string full = Path.Combine(_folder, path);
        return File.Exists(full) ? full : null;
    }

    public override Stream OpenRead(string resolvedPath) =>
        _overrides is not null && _overrides.TryGetValue(resolvedPath, out string? text)
            ? new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text))
            : File.OpenRead(resolvedPath);

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
