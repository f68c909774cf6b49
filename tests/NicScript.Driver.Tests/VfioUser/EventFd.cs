using System.Diagnostics;
using NicScript.Driver.VfioUser;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>A non-blocking eventfd as QEMU gives one per MSI-X vector: the test reads how often the server signalled it.</summary>
internal sealed unsafe class EventFd : IDisposable
{
    public EventFd()
    {
        Fd = Libc.eventfd(0, Libc.EfdNonblock | Libc.EfdCloexec);
        if (Fd < 0) throw new InvalidOperationException("eventfd failed");
    }

    public int Fd { get; }

    /// <summary>The count signalled since the last read (0 when none), resetting it.</summary>
    public ulong Take()
    {
        ulong v = 0;
        return Libc.read(Fd, &v, sizeof(ulong)) == sizeof(ulong) ? v : 0;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a signal; the count, or 0.</summary>
    public ulong Wait(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        do
        {
            if (Take() is var n && n != 0) return n;
            Thread.Sleep(2);
        }
        while (clock.Elapsed < timeout);
        return 0;
    }

    public void Dispose() => Libc.close(Fd);
}
