using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace NicScript.Host.Scripting;

/// <summary>How much CPU time and memory one invocation of a V-Node's script may use, and the check that enforces it.</summary>
/// <remarks>
/// Design: an invocation is the script's top level, one handler call or one continuation of an <c>await</c>.
/// <see cref="Enter"/> starts one on the current thread (the V-Node's loop). CPU is the thread's CPU time, never wall
/// time: the process's one <see cref="CpuWatchdog"/> reads the thread's CPU clock about every millisecond and raises the
/// invocation's <see cref="Invocation.Flag"/> once it has used more than its limit. <see cref="Check"/> — injected into
/// C# loops and method bodies, and run by Jint as a constraint on every statement — reads that flag (one load), compares
/// the thread's allocation counter with the invocation's ceiling (~5–10 ns) and checks the stack, so neither a long
/// library call in a loop nor a loop of any shape gets more than a watchdog tick (plus the call's own length) past its
/// limit, and runaway recursion stops with an error instead of taking the process down. Memory is also checked at every
/// host-call boundary (<see cref="AtHostCall"/>) and when the invocation ends (<see cref="Scope.Exceeded"/>), so
/// straight-line code that allocates without meeting a check still fails.
/// Once exceeded, the invocation is latched: every later check throws again, so a script that catches the
/// exception cannot keep running, and the engine reports the failure even if the script swallowed it.
/// Not thread-safe by design: one invocation per thread, and scripts cannot start threads.
/// </remarks>
public sealed class ScriptBudget
{
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

    /// <summary>The runaway limit: the most CPU time one handler call may hold without returning to its loop.</summary>
    public TimeSpan CpuSlice { get; }

    /// <summary>The runaway limit of the top level (and a handler's first call): the slice plus <see cref="StartupAllowance"/>.</summary>
    public TimeSpan TopLevelSlice => CpuSlice + StartupAllowance;

    /// <summary>The most one invocation may allocate.</summary>
    public long MemoryBytes { get; }

    public double MaxCpuShare { get; }

    public int RequiredMemMb { get; }

    /// <summary>The rule we document: a runaway limit of <c>max_cpu_share × 2 s</c> of CPU (at least 10 ms), memory of <c>required_mem_mb</c>.</summary>
    public static ScriptBudget ForManifest(double maxCpuShare, int requiredMemMb) =>
        new(TimeSpan.FromMilliseconds(Math.Max(10, maxCpuShare * 2000)), requiredMemMb * 1024L * 1024L, maxCpuShare, requiredMemMb);

    /// <summary>The share period (cgroups' <c>cpu.cfs_period_us</c>): a V-Node earns <c>share × 100 ms</c> of CPU per 100 ms of wall time.</summary>
    public static readonly TimeSpan SharePeriod = TimeSpan.FromMilliseconds(100);

    /// <summary>How much unused share carries over (ns): the runaway limit's <c>share × 2 s</c>, at least one period's quota.</summary>
    internal static double BurstNs(double share) =>
        share >= 1 ? double.PositiveInfinity : Math.Max(share * SharePeriod.TotalMilliseconds * 1e6, Math.Max(10e6, share * 2e9));

    /// <summary>Starts an invocation on this thread; dispose it when the invocation returns. Nested calls share the outer one.</summary>
    public Scope Enter(bool topLevel, CancellationToken cancel)
    {
        if (t_current is not null) return default;
        ThreadCpuClock clock = ThreadCpuClock.Current;
        var inv = new Invocation(this, topLevel ? TopLevelSlice : CpuSlice, cancel, clock);
        t_current = inv;
        clock.Invocation = inv;
        CpuWatchdog.Poke();
        return new Scope(inv);
    }

    /// <summary>The check injected at every jump back (loop iteration, label, switch section). Throws
    /// <see cref="ScriptBudgetExceededException"/> once the invocation is over its CPU or memory budget. The stack is left to
    /// <see cref="CheckEntry"/>: a jump back never makes it deeper, and the probe is a native call each time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check()
    {
        Invocation? inv = t_current;
        if (inv is null) return;
        if (inv.Flag != 0 || GC.GetAllocatedBytesForCurrentThread() > inv.MemoryCeiling)
            inv.Slow();
    }

    /// <summary>The check injected at the entry of every method, local function, lambda and accessor (and Jint's per-statement
    /// constraint): <see cref="Check"/> and the stack, so recursion ends with a budget error rather than the process.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CheckEntry()
    {
        Invocation? inv = t_current;
        if (inv is null) return;
        if (inv.Flag != 0 || GC.GetAllocatedBytesForCurrentThread() > inv.MemoryCeiling || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
            inv.Slow();
    }

    /// <summary>The mark injected before each top-level statement of a C# script (the top level runs once, so this costs
    /// nothing per packet): the full check, then the statement's place. An overrun this mark finds happened in the
    /// statement before it, and is reported there; an overrun the end-of-invocation check finds is reported at the last
    /// statement begun — the one that was running when the invocation ended.</summary>
    public static void Statement(int line, int column)
    {
        Invocation? inv = t_current;
        if (inv is null) return;
        inv.AtStatement(line, column);
    }

    /// <summary>The check at a host-call boundary (before and after converting a script's arguments and results): everything, now.</summary>
    public static void AtHostCall()
    {
        Invocation? inv = t_current;
        if (inv is null) return;
        inv.Slow();
    }

    public string DescribeCpu(TimeSpan slice, TimeSpan used) =>
        $"CPU budget exceeded: ran {used.TotalMilliseconds:0} ms of CPU without returning, past its limit of {slice.TotalMilliseconds:0} ms (max_cpu_share {MaxCpuShare} × 2 s = {CpuSlice.TotalMilliseconds:0} ms per call" +
        (slice > CpuSlice ? $", + {StartupAllowance.TotalSeconds:0} s start-up for the top level or a handler's first call)" : ")");

    public string DescribeMemory() =>
        $"memory budget exceeded: allocated more than {RequiredMemMb} MiB in one call (required_mem_mb {RequiredMemMb})";

    /// <summary>When an allocation failed: the runtime refused it (past the host's heap limit, or an object larger than .NET
    /// allows), so the V-Node asked for more than any budget gives even if its counter is still under the ceiling.</summary>
    public string DescribeOutOfMemory() =>
        $"out of memory: the host refused an allocation (heap limit {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes >> 20} MiB for all V-Nodes; this one's budget is {RequiredMemMb} MiB per call, required_mem_mb)";

    public const string DescribeStack = "recursion too deep: the script's stack ran out";

    internal enum BudgetKind
    {
        None,
        Cpu,
        Memory,
        Stack,
        Cancelled,
    }

    /// <summary>One running invocation: its CPU limit, its allocation ceiling, and whether it is already over.</summary>
    internal sealed class Invocation
    {
        private readonly ScriptBudget _budget;
        private readonly long _cpuStartNs, _cpuLimitNs;
        private TimeSpan _cpuUsed;
        private readonly CancellationToken _cancel;
        private readonly ThreadCpuClock _clock;
        private volatile bool _cpuOver;

        public Invocation(ScriptBudget budget, TimeSpan slice, CancellationToken cancel, ThreadCpuClock clock)
        {
            _budget = budget;
            Slice = slice;
            _clock = clock;
            _cpuStartNs = clock.ReadNs();
            _cpuLimitNs = _cpuStartNs + slice.Ticks * 100;
            MemoryCeiling = GC.GetAllocatedBytesForCurrentThread() + budget.MemoryBytes;
            _cancel = cancel;
        }

        /// <summary>Non-zero when the next check must take the slow path: the watchdog saw the limit passed or a cancel, or it is latched.</summary>
        public volatile int Flag;

        /// <summary>The thread's allocation counter past which the invocation is over its memory budget.</summary>
        public readonly long MemoryCeiling;

        public TimeSpan Slice { get; }

        public BudgetKind Exceeded { get; private set; }

        /// <summary>The stack of the check that first found the invocation over budget (null when a statement mark found it).</summary>
        public StackTrace? StoppedAt { get; private set; }

        /// <summary>The place of the last top-level statement begun (<see cref="Statement"/>); line 0 when none was.</summary>
        public int StatementLine, StatementColumn;

        private bool _overInStatement; // a statement mark found the overrun: the previous statement's place says where, not a stack

        internal ThreadCpuClock Clock => _clock;

        /// <summary>From the watchdog: the thread has used <paramref name="cpuNs"/> in all.</summary>
        public void Watch(long cpuNs)
        {
            if (cpuNs > _cpuLimitNs) _cpuOver = true;
            if (_cpuOver || _cancel.IsCancellationRequested) Flag = 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Slow()
        {
            if (Exceeded != BudgetKind.None) Exceed(Exceeded); // latched
            if (!RuntimeHelpers.TryEnsureSufficientExecutionStack()) Exceed(BudgetKind.Stack);
            if (_cancel.IsCancellationRequested) Exceed(BudgetKind.Cancelled);
            if (_cpuOver) Exceed(BudgetKind.Cpu);
            if (GC.GetAllocatedBytesForCurrentThread() > MemoryCeiling) Exceed(BudgetKind.Memory);
        }

        /// <summary>A top-level statement begins: an overrun found now belongs to the statement before (its place stays).</summary>
        public void AtStatement(int line, int column)
        {
            if (Exceeded == BudgetKind.None && StatementLine > 0 && (_cpuOver || GC.GetAllocatedBytesForCurrentThread() > MemoryCeiling))
                _overInStatement = true;
            Slow();
            StatementLine = line;
            StatementColumn = column;
        }

        /// <summary>When the invocation returns: over on CPU (the watchdog saw it) or on memory, even if no check ran after.</summary>
        public void Finish()
        {
            if (Exceeded != BudgetKind.None) return;
            if (_cpuOver)
            {
                _cpuUsed = TimeSpan.FromTicks((_clock.ReadNs() - _cpuStartNs) / 100);
                Exceeded = BudgetKind.Cpu;
            }
            else if (GC.GetAllocatedBytesForCurrentThread() > MemoryCeiling) Exceeded = BudgetKind.Memory;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Exceed(BudgetKind kind)
        {
            if (Exceeded == BudgetKind.None)
            {
                if (kind == BudgetKind.Cpu) _cpuUsed = TimeSpan.FromTicks((_clock.ReadNs() - _cpuStartNs) / 100);
                // Where it was: an async method catches the exception into its task, so the engine may never see it thrown.
                if (kind != BudgetKind.Cancelled && !_overInStatement) StoppedAt = new StackTrace(1, fNeedFileInfo: true);
            }
            Exceeded = kind;
            Flag = 1; // every later check takes the slow path and throws again
            throw new ScriptBudgetExceededException(Describe(kind), kind == BudgetKind.Cancelled);
        }

        public string Describe(BudgetKind kind) => kind switch
        {
            BudgetKind.Cpu => _budget.DescribeCpu(Slice, _cpuUsed),
            BudgetKind.Memory => _budget.DescribeMemory(),
            BudgetKind.Stack => DescribeStack,
            BudgetKind.Cancelled => "stopped: the host is shutting the V-Node down",
            _ => "",
        };
    }

    /// <summary>The running invocation; dispose to end it. <see cref="Exceeded"/> says whether it went over budget.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly Invocation? _inv;

        internal Scope(Invocation inv) => _inv = inv;

        /// <summary>Null when within budget; otherwise the one-line reason (also when the script swallowed the exception).
        /// Read when the invocation has returned: it is the end-of-invocation check (memory allocated, CPU the watchdog saw).</summary>
        public string? Exceeded
        {
            get
            {
                if (_inv is null) return null;
                _inv.Finish();
                return _inv.Exceeded is not BudgetKind.None and var k ? _inv.Describe(k) : null;
            }
        }

        /// <summary>True when the host cancelled the invocation rather than the script overrunning.</summary>
        public bool Cancelled => _inv?.Exceeded == BudgetKind.Cancelled;

        /// <summary>The stack of the check that stopped it (null when no check did: the end-of-invocation check or a statement mark found it).</summary>
        public StackTrace? StoppedAt => _inv?.StoppedAt;

        /// <summary>Where the top level was when no check's stack says: the last top-level statement begun before the
        /// overrun was found (1-based line and column in the script), or null when the invocation marks no statements (a handler).</summary>
        public (int Line, int Column)? Statement => _inv is { StatementLine: > 0 } inv ? (inv.StatementLine, inv.StatementColumn) : null;

        public void Dispose()
        {
            if (_inv is null) return;
            if (ReferenceEquals(t_current, _inv)) t_current = null;
            if (ReferenceEquals(_inv.Clock.Invocation, _inv)) _inv.Clock.Invocation = null;
        }
    }
}
