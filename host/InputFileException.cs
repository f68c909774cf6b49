namespace NicScript.Host;

/// <summary>A file the user named that <see cref="InputFile"/> will not read: <c>path: reason</c>, one line.</summary>
public sealed class InputFileException : UserErrorException
{
    public InputFileException(string path, string reason) : base($"{path}: {reason}")
    {
        Path = path;
        Reason = reason;
    }

    public string Path { get; }

    public string Reason { get; }
}
