using System.Runtime.ExceptionServices;

namespace NicScript.Host.Scripting;

/// <summary>Runs a parse or a compile on a thread of its own with a large stack, so every input within the nesting limits
/// (<see cref="SourceNesting"/>, the syntax-depth checks) completes instead of overflowing the caller's stack.</summary>
/// <remarks>
/// Design: Roslyn and Acornima recurse per nesting level and guard only loosely (Roslyn's guard trips late on a main
/// thread's 8 MB; Acornima throws <see cref="InsufficientExecutionStackException"/>). A thread per parse costs a
/// fraction of a millisecond beside the parse; the stack is reserved, not committed, so 256 MB costs only what is used.
/// </remarks>
public static class ParserThread
{
    public const int StackBytes = 256 * 1024 * 1024;

    /// <summary>Runs <paramref name="work"/> on a fresh large-stack thread and returns its result or rethrows its exception.</summary>
    public static T Run<T>(Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
        }, StackBytes) { IsBackground = true, Name = "nicscript-parse" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
