using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NicScript.Host.Scripting;

/// <summary>The CPU time one thread has used (its thread CPU clock), readable from any thread of the process.</summary>
/// <remarks>
/// Design: on Linux the clock id comes from <c>pthread_getcpuclockid</c> on the thread itself; then the watchdog reads it
/// with <c>clock_gettime</c> from its own thread. Waiting (a blocked loop, a preempted thread on a busy host) does not
/// advance it, so a loaded host cannot make an honest V-Node look expensive. Elsewhere (no thread CPU clocks) it falls back
/// to wall time, which can only over-count: budgets stay closed. A read is a system call (measured ~0.3–2 µs in a VM), so
/// the loop never reads it per work item: the watchdog samples it about every millisecond while the thread is busy.
/// </remarks>
public sealed class ThreadCpuClock
{
    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    [ThreadStatic] private static ThreadCpuClock? t_clock;

    private readonly int _clockId;
    private readonly bool _native;

    private ThreadCpuClock()
    {
        _native = OperatingSystem.IsLinux() && pthread_getcpuclockid(pthread_self(), out _clockId) == 0;
        ThreadName = Thread.CurrentThread.Name ?? $"thread {Environment.CurrentManagedThreadId}";
    }

    /// <summary>The calling thread's clock (made and registered with the watchdog on first use).</summary>
    public static ThreadCpuClock Current
    {
        get
        {
            if (t_clock is { } c) return c;
            c = new ThreadCpuClock();
            t_clock = c;
            CpuWatchdog.Register(c);
            return c;
        }
    }

    public string ThreadName { get; }

    /// <summary>Stops watching this thread (its loop is ending): its clock id could later name another thread.</summary>
    public void Release()
    {
        Dead = true;
        if (t_clock == this) t_clock = null;
    }

    /// <summary>CPU nanoseconds the thread has used; from any thread. -1 once the thread is gone.</summary>
    public long ReadNs()
    {
        if (!_native) return Stopwatch.GetElapsedTime(0).Ticks * 100;
        return clock_gettime(_clockId, out Timespec ts) == 0 ? ts.Seconds * 1_000_000_000 + ts.Nanoseconds : -1;
    }

    /// <summary>CPU nanoseconds the calling thread has used (its own clock, no registration); wall time where there is none.</summary>
    public static long ReadCurrentThreadNs() =>
        OperatingSystem.IsLinux() && clock_gettime(ClockThreadCpuTime, out Timespec ts) == 0
            ? ts.Seconds * 1_000_000_000 + ts.Nanoseconds
            : Stopwatch.GetElapsedTime(0).Ticks * 100;

    // Written by the thread, read by the watchdog --------------------------------------------------------------------

    /// <summary>The invocation running on this thread now (the watchdog sets its flag when it runs past its limit).</summary>
    internal volatile ScriptBudget.Invocation? Invocation;

    /// <summary>Set by a loop while it runs work: the watchdog samples the clock while this is set (and once after).</summary>
    internal volatile bool Busy;

    /// <summary>The share of one core this thread may use over time (cgroups' quota/period); 1 or more: not throttled.</summary>
    internal double Share = 1;

    /// <summary>CPU ns charged that are given back (the top level's start-up allowance); taken by the watchdog.</summary>
    internal long Credit;

    // Kept by the watchdog --------------------------------------------------------------------------------------------

    /// <summary>The watchdog's last reading of <see cref="ReadNs"/>.</summary>
    internal long LastSampleNs;

    internal bool Sampled, WasBusy;

    internal volatile bool Dead;

    /// <summary>CPU credit left (ns): earned at <see cref="Share"/> × wall time, capped at the burst, spent by CPU used.</summary>
    internal double BalanceNs = double.NaN;

    /// <summary>When the balance is back to zero (a <see cref="Stopwatch"/> timestamp); 0 while not throttled. The loop waits for it.</summary>
    internal long ReadyAt;

    // Blittable signatures (no marshalling work per call); DllImport because the host is built without unsafe code.
    [DllImport("libc", ExactSpelling = true)]
    private static extern nint pthread_self();

    [DllImport("libc", ExactSpelling = true)]
    private static extern int pthread_getcpuclockid(nint thread, out int clockId);

    [DllImport("libc", ExactSpelling = true)]
    private static extern int clock_gettime(int clockId, out Timespec ts);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

/// <summary>The one thread per process that watches the CPU clocks of threads running scripts.</summary>
/// <remarks>
/// Design: about every <see cref="TickMs"/> ms it reads the clock of every busy thread (or one with an invocation), flags
/// an invocation that has used more CPU than its limit (the injected check then sees the flag with one load and throws at
/// the script's line), and keeps each thread's share account: credit earned at <c>share × wall time</c>, capped at a burst,
/// spent by CPU used; a thread in debt gets a <see cref="ThreadCpuClock.ReadyAt"/> its loop waits for (throttling). With no
/// busy thread it parks until one becomes busy, so an idle host costs nothing. Cost: one <c>clock_gettime</c> per busy
/// thread per tick.
/// </remarks>
internal static class CpuWatchdog
{
    public const int TickMs = 1;

    private static readonly object Gate = new();
    private static ThreadCpuClock[] s_clocks = [];
    private static readonly AutoResetEvent Wake = new(false);
    private static volatile bool s_parked;
    private static Thread? s_thread;

    public static void Register(ThreadCpuClock clock)
    {
        lock (Gate)
        {
            s_clocks = [.. s_clocks, clock];
            if (s_thread is null)
            {
                s_thread = new Thread(Run) { IsBackground = true, Name = "nicscript:cpu-watchdog", Priority = ThreadPriority.AboveNormal };
                s_thread.Start();
            }
        }
    }

    /// <summary>Wakes the watchdog if it parked (a thread just became busy).</summary>
    public static void Poke()
    {
        if (s_parked) Wake.Set();
    }

    private static void Run()
    {
        long last = Stopwatch.GetTimestamp();
        int idleTicks = 0;
        while (true)
        {
            if (idleTicks > 100)
            {
                s_parked = true;
                Wake.WaitOne(100);
                s_parked = false;
                idleTicks = 0;
            }
            else
            {
                Thread.Sleep(TickMs);
            }
            long now = Stopwatch.GetTimestamp();
            double wallNs = (now - last) * (1e9 / Stopwatch.Frequency);
            last = now;
            bool any = false;
            foreach (ThreadCpuClock c in Volatile.Read(ref s_clocks))
                any |= Tick(c, now, wallNs);
            idleTicks = any ? 0 : idleTicks + 1;
            RemoveDead();
        }
    }

    /// <summary>One clock's tick; true when its thread was busy.</summary>
    private static bool Tick(ThreadCpuClock c, long now, double wallNs)
    {
        if (c.Dead) return false;
        ScriptBudget.Invocation? inv = c.Invocation;
        bool busy = c.Busy || inv is not null;
        double burst = ScriptBudget.BurstNs(c.Share);
        if (double.IsNaN(c.BalanceNs)) c.BalanceNs = burst;
        else c.BalanceNs = Math.Min(burst, c.BalanceNs + c.Share * wallNs);
        if (busy || c.WasBusy || !c.Sampled)
        {
            long cpu = c.ReadNs();
            if (cpu < 0) { c.Dead = true; return false; }
            long used = c.Sampled ? cpu - c.LastSampleNs : 0;
            c.LastSampleNs = cpu;
            c.Sampled = true;
            long refund = Interlocked.Exchange(ref c.Credit, 0);
            if (c.Share < 1) c.BalanceNs = Math.Min(burst, c.BalanceNs - used + refund);
            inv?.Watch(cpu);
        }
        else
        {
            inv?.Watch(c.LastSampleNs);
        }
        c.WasBusy = busy;
        Volatile.Write(ref c.ReadyAt, c.Share < 1 && c.BalanceNs < 0
            ? now + (long)(-c.BalanceNs / c.Share * Stopwatch.Frequency / 1e9) + 1
            : 0);
        return busy;
    }

    private static void RemoveDead()
    {
        ThreadCpuClock[] clocks = Volatile.Read(ref s_clocks);
        if (!clocks.Any(c => c.Dead)) return;
        lock (Gate) s_clocks = s_clocks.Where(c => !c.Dead).ToArray();
    }
}
