using System.Threading.Channels;
using NicScript.Dpu.V1;
using Serilog;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>
/// The agent's single writer (reference/dpu.md §7): each change, from validation to reply — validate against the current
/// state, commit the rows, apply to the device, publish the new state, audit — with group commit; it owns the published
/// <see cref="DpuState"/> that reads take without a lock.
/// </summary>
internal sealed class DpuWriter
{
    private const int MaxBatch = 64;

    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly DpuStore _store;
    private readonly DpuProgrammer _programmer;
    private readonly ILogger _audit;
    private DpuState _state;

    /// <summary>Starts the writer on <paramref name="recovered"/>, the state the device has been programmed with.</summary>
    public DpuWriter(DpuStore store, DpuProgrammer programmer, ILogger audit, DpuState recovered)
    {
        _store = store;
        _programmer = programmer;
        _audit = audit;
        _state = recovered;
        _writer = Task.Run(WriteLoop);
    }

    /// <summary>The published state (an immutable snapshot).</summary>
    public DpuState State => Volatile.Read(ref _state);

    /// <summary>Changes handed to the writer and not yet taken into a batch.</summary>
    public int Pending => Volatile.Read(ref _pending);

    private int _pending;

    private sealed class Work(string rpc, string key, Func<DpuState, DpuChange> plan)
    {
        public readonly string Rpc = rpc, Key = key;
        public readonly Func<DpuState, DpuChange> Plan = plan;
        public readonly TaskCompletionSource<DpuOutcome> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One change, handed to the single writer: validate, commit, apply, publish, audit; the task ends with its
    /// outcome once the change is durable and in force (or refused).</summary>
    public Task<DpuOutcome> Change(string rpc, string key, Func<DpuState, DpuChange> plan)
    {
        var work = new Work(rpc, key, plan);
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(work)) return work.Done.Task;
        Interlocked.Decrement(ref _pending);
        return Task.FromResult(new DpuOutcome(DpuStatus.Unavailable, "the agent is stopping"));
    }

    /// <summary>Takes no more changes and waits until those already handed over are finished.</summary>
    public void Complete()
    {
        _queue.Writer.TryComplete();
        _writer.Wait();
    }

    /// <summary>
    /// The single writer, with group commit: the changes waiting when it looks (up to <see cref="MaxBatch"/>) are
    /// validated one after the other, each against the state the ones before it leave, their rows go to disk in one
    /// transaction (one fsync), then each is applied, published and answered in order. Nothing is acknowledged before
    /// its commit, so acknowledged is still durable; a failed commit changes nothing for any of them. If the device
    /// refuses a change, its rows and those of every later change in the batch (validated on top of it) are put back,
    /// it answers INTERNAL, and the later ones are validated again in the next batch.
    /// </summary>
    private async Task WriteLoop()
    {
        var batch = new List<Work>(MaxBatch);
        var again = new Queue<Work>();
        while (again.Count > 0 || await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (again.Count > 0 && batch.Count < MaxBatch) batch.Add(again.Dequeue());
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out Work? w))
            {
                Interlocked.Decrement(ref _pending);
                batch.Add(w);
            }
            try
            {
                RunBatch(batch, again);
            }
            catch (Exception e) // a bug in a change's plan: answer, do not stop the writer
            {
                foreach (Work w in batch) Finish(w, new DpuOutcome(DpuStatus.Internal, "the agent failed: " + e.Message));
            }
        }
    }

    private void RunBatch(List<Work> batch, Queue<Work> again)
    {
        var planned = new List<(Work Work, DpuOutcome Outcome, DpuState Before, DpuState? Next, List<(string Table, long Key, byte[]? Value)>? Rows, DpuDeviceStep? Step)>(batch.Count);
        DpuState state = Volatile.Read(ref _state);
        foreach (Work w in batch)
        {
            DpuChange c = w.Plan(state);
            bool changes = c.Changes;
            planned.Add((w, c.Outcome, state, changes ? c.Next : null, changes ? c.Rows : null, changes ? c.Step : null));
            if (changes) state = c.Next!;
        }
        var all = planned.Where(p => p.Rows is not null).SelectMany(p => p.Rows!).ToList();
        if (all.Count > 0 && !_store.Commit(all))
        {
            // nothing changed: the changes fail; an answer that was worked out on top of one of them is worked out again
            bool afterChange = false;
            foreach (var p in planned)
            {
                if (p.Rows is not null) Finish(p.Work, new DpuOutcome(DpuStatus.Unavailable, "the change could not be made durable; nothing changed"));
                else if (afterChange) again.Enqueue(p.Work);
                else Finish(p.Work, p.Outcome);
                afterChange |= p.Rows is not null;
            }
            return;
        }
        // apply in order; the switch is programmed and the state published once, before any answer of the batch
        var answers = new List<(Work Work, DpuOutcome Outcome)>(planned.Count);
        DpuState applied = planned.Count > 0 ? planned[0].Before : Volatile.Read(ref _state);
        for (int i = 0; i < planned.Count; i++)
        {
            var p = planned[i];
            if (p.Rows is null)
            {
                answers.Add((p.Work, p.Outcome));
                continue;
            }
            try
            {
                if (p.Step is { } step) _programmer.Apply(step);
                applied = p.Next!;
                answers.Add((p.Work, p.Outcome));
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
            {
                // the device refused a committed change: put its rows back, and those of the changes validated on top of it
                var undo = new List<(string, long, byte[]?)>();
                for (int j = planned.Count - 1; j >= i; j--)
                    if (planned[j].Rows is { } rows) undo.AddRange(rows.Select(r => (r.Table, r.Key, DpuStore.RowOf(planned[j].Before, r.Table, r.Key))));
                _store.Commit(undo);
                answers.Add((p.Work, new DpuOutcome(DpuStatus.Internal, "the device refused the change: " + e.Message)));
                for (int j = i + 1; j < planned.Count; j++) again.Enqueue(planned[j].Work);
                break;
            }
        }
        if (!ReferenceEquals(applied, Volatile.Read(ref _state)))
        {
            _programmer.ProgramSwitch(applied);
            Volatile.Write(ref _state, applied);
        }
        foreach (var (work, outcome) in answers) Finish(work, outcome);
    }

    /// <summary>Audits the change's outcome (one line per rpc), then answers it.</summary>
    private void Finish(Work w, DpuOutcome outcome)
    {
        _audit.Information("dpu {Rpc} {Key} → {Status} {Detail}", w.Rpc, w.Key, DpuOutcome.StatusName(outcome.Status), outcome.Detail);
        w.Done.TrySetResult(outcome);
    }
}
