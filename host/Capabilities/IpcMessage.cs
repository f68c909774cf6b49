namespace NicScript.Host.Capabilities;

/// <summary>One message on a named channel, as the serving V-Node's handler receives it.</summary>
public sealed class IpcMessage
{
    public IpcMessage(string channel, string from, string type, string? body, FrameBuffer? frame = null)
    {
        Channel = channel;
        From = from;
        Type = type;
        Body = body;
        Frame = frame;
    }

    /// <summary>The frame the message carries, now held by the receiver (MemShare transfer), or null.</summary>
    [ScriptApi] public FrameBuffer? Frame { get; }

    /// <summary>The carried frame's length, 0 without one.</summary>
    [ScriptApi] public int Length => Frame?.Length ?? 0;

    [ScriptApi] public string Channel { get; }

    /// <summary>The sending V-Node's name.</summary>
    [ScriptApi] public string From { get; }

    [ScriptApi] public string Type { get; }

    [ScriptApi] public string? Body { get; }

    public override string ToString() => $"{Channel} {Type} from {From}";
}
