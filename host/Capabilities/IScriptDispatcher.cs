namespace NicScript.Host.Capabilities;

/// <summary>Queues a call of a script's handler on its V-Node's loop, under its budget.</summary>
public interface IScriptDispatcher
{
    /// <summary>False when the loop's queue is full or the V-Node stopped: the caller counts a drop.</summary>
    bool Dispatch<T>(Action<T> handler, T argument);

    /// <summary>Queues host work on the loop that is not itself a script invocation: it makes its script calls with
    /// <see cref="Invoke{T}"/>, each under its own budget (an IPC channel draining a burst of messages, one call per message).
    /// False when the loop's queue is full or the V-Node stopped.</summary>
    bool Post(Action<object?> work, object? state);

    /// <summary>On the loop, from work queued with <see cref="Post"/>: calls <paramref name="handler"/> now as one invocation of
    /// the script (its budget, its microtask checkpoint, its failure). False when the V-Node has failed (the call did not run or
    /// it failed).</summary>
    bool Invoke<T>(Action<T> handler, T argument);
}
