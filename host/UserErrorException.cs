namespace NicScript.Host;

/// <summary>A mistake in what the user gave us: printed as one line, exit code 1, never a stack trace.</summary>
/// <remarks>Anything that is not a <see cref="UserErrorException"/> is our bug and is logged with its stack.</remarks>
public class UserErrorException : Exception
{
    public UserErrorException(string message) : base(message) { }

    public UserErrorException(string message, Exception inner) : base(message, inner) { }
}
