namespace NicScript.Host;

/// <summary>A place in a user's file: 1-based line and column.</summary>
public readonly record struct SourceSpan(string File, int Line, int Column)
{
    public static SourceSpan None(string file) => new(file, 0, 0);

    /// <summary><c>file:line:col</c>, or just the file when the position is unknown.</summary>
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}
