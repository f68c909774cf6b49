namespace NicScript.Host.Capabilities;

/// <summary>One message on a named channel, as the serving V-Node's handler receives it.</summary>
public sealed class IpcMessage
{
    public IpcMessage(string channel, string from, string type, string? body)
    {
        Channel = channel;
        From = from;
        Type = type;
        Body = body;
    }

    [ScriptApi] public string Channel { get; }

    /// <summary>The sending V-Node's name.</summary>
    [ScriptApi] public string From { get; }

    [ScriptApi] public string Type { get; }

    [ScriptApi] public string? Body { get; }

    public override string ToString() => $"{Channel} {Type} from {From}";
}
