namespace NicScript.Host.Capabilities;

/// <summary>A script called a granted handle wrongly (bad argument, freed buffer, unknown device): one line, no stack.</summary>
public sealed class ScriptCallException : UserErrorException
{
    public ScriptCallException(string message) : base(message) { }
}
