namespace NicScript.Host.Capabilities;

/// <summary>Queues a call of a script's handler on its V-Node's loop, under its budget.</summary>
public interface IScriptDispatcher
{
    /// <summary>False when the loop's queue is full or the V-Node stopped: the caller counts a drop.</summary>
    bool Dispatch<T>(Action<T> handler, T argument);
}
