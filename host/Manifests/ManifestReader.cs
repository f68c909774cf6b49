namespace NicScript.Host.Manifests;

/// <summary>Typed reads over a <see cref="YamlNode"/> tree that record a problem, with its place, for every mismatch.</summary>
internal sealed class ManifestReader
{
    /// <summary>Reads <paramref name="path"/> as a YAML tree into a reader for it; a file that cannot be read is one problem
    /// naming it. The caller parses the tree and throws the reader's problems if it found any.</summary>
    public static (ManifestReader Reader, YamlNode? Root) Open(string path)
    {
        return Parse(ReadText(path), path);
    }

    /// <summary>A YAML file's text through <see cref="InputFile"/> (a regular file, at most <see cref="InputFile.MaxYamlBytes"/>);
    /// a refusal is one problem naming the file.</summary>
    public static string ReadText(string path)
    {
        try { return InputFile.ReadText(path, InputFile.MaxYamlBytes, "YAML files"); }
        catch (InputFileException e) { throw new ManifestException([new ManifestProblem(SourceSpan.None(path), e.Reason, ProblemSeverity.Error)]); }
    }

    /// <summary>A YAML text already read (a saved plan carries its state file's text), named <paramref name="path"/> in problems.</summary>
    public static (ManifestReader Reader, YamlNode? Root) Parse(string text, string path)
    {
        var r = new ManifestReader(path);
        return (r, YamlTreeReader.Read(text, path, r.Problems));
    }

    public ManifestReader(string file) => File = file;

    public string File { get; }

    public ManifestMode Mode { get; set; } = ManifestMode.Strict;

    public List<ManifestProblem> Problems { get; } = new();

    public bool HasErrors => Problems.Any(p => p.Severity == ProblemSeverity.Error);

    public SourceSpan At(YamlNode node) => new(File, node.Line, node.Column);

    public void Error(YamlNode at, string message) => Problems.Add(new(At(at), message, ProblemSeverity.Error));

    public void Warn(YamlNode at, string message) => Problems.Add(new(At(at), message, ProblemSeverity.Warning));

    /// <summary>An error in strict mode, a warning in permissive mode.</summary>
    public void Unknown(YamlNode at, string message)
    {
        if (Mode == ManifestMode.Strict) Error(at, message + " (not allowed in strict mode)");
        else Warn(at, message + " (ignored in permissive mode)");
    }

    public YamlMapping? Mapping(YamlNode? node, string what)
    {
        if (node is YamlMapping m) return m;
        if (node is not null) Error(node, $"expected a mapping for {what}, got {node.Describe}");
        return null;
    }

    /// <summary>Checks that <paramref name="map"/> has only <paramref name="known"/> keys and has each of <paramref name="required"/>.</summary>
    public void Keys(YamlMapping map, string what, string[] known, string[] required)
    {
        foreach (var (key, _) in map.Entries)
            if (!known.Contains(key.Value)) Unknown(key, $"unknown key '{key.Value}' in {what} (expected one of: {string.Join(", ", known)})");
        foreach (string r in required)
            if (map[r] is null) Error(map, $"missing required key '{r}' in {what}");
    }

    public string? String(YamlNode? node, string what)
    {
        switch (node)
        {
            case null: return null;
            case YamlScalar s when !s.IsNull: return s.Value;
            default: Error(node, $"expected a string for {what}, got {node.Describe}"); return null;
        }
    }

    public long? Integer(YamlNode? node, string what)
    {
        switch (node)
        {
            case null: return null;
            case YamlScalar s when s.TryInt(out long v): return v;
            default: Error(node, $"expected an integer for {what}, got {node.Describe}"); return null;
        }
    }

    public double? Number(YamlNode? node, string what)
    {
        switch (node)
        {
            case null: return null;
            case YamlScalar s when s.TryNumber(out double v): return v;
            default: Error(node, $"expected a number for {what}, got {node.Describe}"); return null;
        }
    }

    public YamlSequence? Sequence(YamlNode? node, string what)
    {
        if (node is YamlSequence s) return s;
        if (node is not null) Error(node, $"expected a list for {what}, got {node.Describe}");
        return null;
    }
}
