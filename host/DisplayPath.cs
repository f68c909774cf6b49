namespace NicScript.Host;

/// <summary>Paths as a user typed them: relative to the working folder when the file is below it.</summary>
public static class DisplayPath
{
    public static string Of(string fullPath)
    {
        string rel = Path.GetRelativePath(Environment.CurrentDirectory, fullPath);
        return rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel) ? fullPath : rel;
    }
}
