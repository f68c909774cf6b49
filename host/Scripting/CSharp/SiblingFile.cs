namespace NicScript.Host.Scripting.CSharp;

/// <summary>Reads a <c>#load</c>ed sibling: a regular file whose real path (every link resolved) lies inside the script's
/// real folder, within the script size limit, with brackets within <see cref="SourceNesting.MaxBrackets"/>. Knows no Roslyn.</summary>
/// <remarks>
/// Design: the name a script writes is a bare <c>x.csx</c>, but the entry in the folder may be a symbolic link to any
/// file on the machine. What is checked is the file that was actually opened (its <c>/proc/self/fd</c> path), so a link
/// swapped between a check and the open cannot lead outside.
/// </remarks>
public static class SiblingFile
{
    /// <summary>The text of the sibling at <paramref name="fullPath"/> of a script in <paramref name="folder"/>.</summary>
    /// <exception cref="InputFileException">It is missing, not a regular file, outside the folder, too large or too deeply nested.</exception>
    public static string Read(string folder, string fullPath)
    {
        string shown = DisplayPath.Of(fullPath);
        string realFolder = InputFile.RealFolder(folder) ?? throw new InputFileException(shown, "the script's folder cannot be read");
        InputFile.Contents contents = InputFile.Read(fullPath, InputFile.MaxScriptBytes, "scripts");
        string inside = realFolder.EndsWith('/') ? realFolder : realFolder + "/";
        if (!contents.RealPath.StartsWith(inside, StringComparison.Ordinal))
            throw new InputFileException(shown, $"resolves to {contents.RealPath}, outside the script's folder {realFolder}; #load reads only files inside it");
        if (SourceNesting.FindTooDeep(contents.Text, Manifests.ScriptLanguage.CSharp) is { } at)
            throw new InputFileException(shown, $"{at.Line}:{at.Column}: nesting too deep: more than {SourceNesting.MaxBrackets} brackets inside each other");
        return contents.Text;
    }
}
