using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace NicScript.Host.Scripting;

/// <summary>How much CPU time and memory one invocation of a V-Node's script may use, and the check that enforces it.</summary>
/// <remarks>
/// Design: an invocation is the script's top level or one handler call. <see cref="Enter"/> starts one on the
/// current thread (the V-Node's loop); <see cref="Check"/> — injected into C# loops and method bodies, and run by
/// Jint as a constraint on every statement — is a thread-static countdown on the fast path and only reads the
/// clock and the thread's allocation counter every <see cref="SlowPathEvery"/> calls. The stack is checked on every
/// call, so runaway recursion stops with an error instead of taking the process down.
/// Once exceeded, the invocation is latched: every later check throws again, so a script that catches the
/// exception cannot keep running, and the engine reports the failure even if the script swallowed it.
/// Not thread-safe by design: one invocation per thread, and scripts cannot start threads.
/// </remarks>
public sealed class ScriptBudget
{
    /// <summary>Checks between clock and allocation readings: ~1 µs of work at most between readings.</summary>
    public const int SlowPathEvery = 1024;

    /// <summary>What every top level (and each handler's first call) gets on top of its slice: engine start-up and JIT are not the script's fault.</summary>
    public static readonly TimeSpan StartupAllowance = TimeSpan.FromSeconds(2);

    [ThreadStatic] private static Invocation? t_current;

    public ScriptBudget(TimeSpan cpuSlice, long memoryBytes, double maxCpuShare, int requiredMemMb)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(cpuSlice, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(memoryBytes, 0);
        CpuSlice = cpuSlice;
        MemoryBytes = memoryBytes;
        MaxCpuShare = maxCpuShare;
        RequiredMemMb = requiredMemMb;
    }

    /// <summary>The longest one handler call may run.</summary>
    public TimeSpan CpuSlice { get; }

    /// <summary>The longest the top level may run: the slice plus <see cref="StartupAllowance"/>.</summary>
    public TimeSpan TopLevelSlice => CpuSlice + StartupAllowance;

    /// <summary>The most one invocation may allocate.</summary>
    public long MemoryBytes { get; }

    public double MaxCpuShare { get; }

    public int RequiredMemMb { get; }

    /// <summary>The rule we document: a slice of <c>max_cpu_share × 2 s</c> (at least 10 ms), memory of <c>required_mem_mb</c>.</summary>
    public static ScriptBudget ForManifest(double maxCpuShare, int requiredMemMb) =>
        new(TimeSpan.FromMilliseconds(Math.Max(10, maxCpuShare * 2000)), requiredMemMb * 1024L * 1024L, maxCpuShare, requiredMemMb);

    /// <summary>Starts an invocation on this thread; dispose it when the invocation returns. Nested calls share the outer one.</summary>
    public Scope Enter(bool topLevel, CancellationToken cancel)
    {
        if (t_current is not null) return default;
        var inv = new Invocation(this, topLevel ? TopLevelSlice : CpuSlice, cancel);
        t_current = inv;
        return new Scope(inv);
    }

    /// <summary>The injected check. Throws <see cref="ScriptBudgetExceededException"/> once the invocation is over budget.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check()
    {
        Invocation? inv = t_current;
        if (inv is null) return;
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) inv.Exceed(BudgetKind.Stack);
        if (--inv.Countdown <= 0) inv.Slow();
    }

    /// <summary>The check at a host-call boundary (before and after converting a script's arguments and results): reads the clock and allocations now, not on the countdown.</summary>
    public static void AtHostCall()
    {
        Invocation? inv = t_current;
        if (inv is null) return;
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) inv.Exceed(BudgetKind.Stack);
        inv.Slow();
    }

    public string DescribeCpu(TimeSpan slice) =>
        $"CPU budget exceeded: ran past {slice.TotalMilliseconds:0} ms (max_cpu_share {MaxCpuShare} allows {CpuSlice.TotalMilliseconds:0} ms per call" +
        (slice > CpuSlice ? $", {slice.TotalMilliseconds:0} ms for the top level or a handler's first call)" : ")");

    public string DescribeMemory() =>
        $"memory budget exceeded: allocated more than {RequiredMemMb} MiB in one call (required_mem_mb {RequiredMemMb})";

    public const string DescribeStack = "recursion too deep: the script's stack ran out";

    internal enum BudgetKind
    {
        None,
        Cpu,
        Memory,
        Stack,
        Cancelled,
    }

    /// <summary>One running invocation: its deadline, its allocation baseline, and whether it is already over.</summary>
    internal sealed class Invocation
    {
        private readonly ScriptBudget _budget;
        private readonly long _deadline;
        private readonly long _allocatedAtStart;
        private readonly CancellationToken _cancel;

        public Invocation(ScriptBudget budget, TimeSpan slice, CancellationToken cancel)
        {
            _budget = budget;
            Slice = slice;
            _deadline = Stopwatch.GetTimestamp() + (long)(slice.TotalSeconds * Stopwatch.Frequency);
            _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
            _cancel = cancel;
            Countdown = SlowPathEvery;
        }

        public int Countdown;

        public TimeSpan Slice { get; }

        public BudgetKind Exceeded { get; private set; }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Slow()
        {
            Countdown = SlowPathEvery;
            if (Exceeded != BudgetKind.None) Exceed(Exceeded); // latched
            if (_cancel.IsCancellationRequested) Exceed(BudgetKind.Cancelled);
            if (Stopwatch.GetTimestamp() > _deadline) Exceed(BudgetKind.Cpu);
            if (GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart > _budget.MemoryBytes) Exceed(BudgetKind.Memory);
        }


        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Exceed(BudgetKind kind)
        {
            Exceeded = kind;
            Countdown = 0; // every later check takes the slow path and throws again
            throw new ScriptBudgetExceededException(Describe(kind), kind == BudgetKind.Cancelled);
        }

        public string Describe(BudgetKind kind) => kind switch
        {
            BudgetKind.Cpu => _budget.DescribeCpu(Slice),
            BudgetKind.Memory => _budget.DescribeMemory(),
            BudgetKind.Stack => DescribeStack,
            BudgetKind.Cancelled => "stopped: the host is shutting the V-Node down",
            _ => "",
        };
    }

    /// <summary>The running invocation; dispose to end it. <see cref="Outcome"/> says whether it went over budget.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly Invocation? _inv;

        internal Scope(Invocation inv) => _inv = inv;

        /// <summary>Null when within budget; otherwise the one-line reason (also when the script swallowed the exception).</summary>
        public string? Exceeded => _inv is { Exceeded: not BudgetKind.None and var k } ? _inv.Describe(k) : null;

        /// <summary>True when the host cancelled the invocation rather than the script overrunning.</summary>
        public bool Cancelled => _inv?.Exceeded == BudgetKind.Cancelled;

        public void Dispose()
        {
            if (_inv is not null && ReferenceEquals(t_current, _inv)) t_current = null;
        }
    }
}
