using NicScript.Host.Capabilities;

namespace NicScript.Host.Tests.Capabilities;

/// <summary>A served channel's queue: bounded, in order, and the server's loop woken once per burst.</summary>
public sealed class IpcMailboxTests : IDisposable
{
    private readonly TestVNode _vnode = TestVNode.Create("server", "  - CAP_LOG_WRITE");
    private readonly ManualLoop _loop = new();

    public IpcMailboxTests() => _vnode.Context.Dispatcher = _loop;

    public void Dispose() => _vnode.Dispose();

    private static IpcMailbox.Envelope Message(int n) => new() { From = "client", Type = "x", Body = Bodies[n % Bodies.Length] };

    private static readonly string[] Bodies = Enumerable.Range(0, 4096).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void ManyMessages_WakeTheLoopOnce_AndEachReachesTheHandlerInOrder()
    {
        var seen = new List<string?>();
        var mailbox = new IpcMailbox("svc://s", _vnode.Context, m => seen.Add(m.Body), null);
        for (int i = 0; i < 1000; i++) Assert.True(mailbox.TryPost(Message(i)));
        Assert.Equal(1, _loop.Queued); // one wake-up for the thousand

        _loop.RunAll();

        Assert.Equal(Bodies[..1000], seen);
        Assert.Equal(1000, _loop.Invocations); // serve: still one handler call (one budget) per message
    }

    [Fact]
    public void ServeBurst_ALongQueue_IsSplitIntoBurstsAcrossWakeUps_InOrder()
    {
        var bursts = new List<int>();
        var seen = new List<string?>();
        var mailbox = new IpcMailbox("svc://s", _vnode.Context, null, b =>
        {
            bursts.Add(b.Count);
            for (int i = 0; i < b.Count; i++) seen.Add(b.Body(i));
        });
        for (int i = 0; i < 1000; i++) Assert.True(mailbox.TryPost(Message(i)));

        int wakeUps = _loop.RunAll();

        Assert.Equal([256, 256, 256, 232], bursts);
        Assert.Equal(4, wakeUps); // each burst queues the next behind the loop's other work
        Assert.Equal(Bodies[..1000], seen);
    }

    [Fact]
    public void ServeBurst_MessagesArrivingDuringACall_FormTheNextBurst()
    {
        var bursts = new List<string>();
        IpcMailbox? mailbox = null;
        mailbox = new IpcMailbox("svc://s", _vnode.Context, null, b =>
        {
            bursts.Add(string.Join(",", Enumerable.Range(0, b.Count).Select(b.Body)));
            if (bursts.Count == 1) { mailbox!.TryPost(Message(3)); mailbox.TryPost(Message(4)); }
        });
        for (int i = 0; i < 3; i++) mailbox.TryPost(Message(i));

        _loop.RunAll();

        Assert.Equal(["0,1,2", "3,4"], bursts);
    }

    [Fact]
    public void FullQueue_RefusesTheSender_UntilTheServerHandlesMessages()
    {
        var mailbox = new IpcMailbox("svc://s", _vnode.Context, _ => { }, null);
        for (int i = 0; i < IpcMailbox.Capacity; i++) Assert.True(mailbox.TryPost(Message(i)));

        Assert.False(mailbox.TryPost(Message(0))); // bounded: the sender is told, nothing grows
        _loop.RunOne();                            // one burst handled: its places are free again
        Assert.True(mailbox.TryPost(Message(0)));
    }

    [Fact]
    public void StoppedServer_RefusesTheMessage()
    {
        var mailbox = new IpcMailbox("svc://s", _vnode.Context, _ => { }, null);
        _loop.Refuse = true;
        Assert.False(mailbox.TryPost(Message(0)));
        _loop.Refuse = false;
        Assert.True(mailbox.TryPost(Message(1)));
    }

    [Fact]
    public void BurstAfterItsCall_RefusesEveryUse()
    {
        IpcBurst? kept = null;
        var mailbox = new IpcMailbox("svc://s", _vnode.Context, null, b => kept = b);
        mailbox.TryPost(Message(0));
        _loop.RunAll();

        var e = Assert.Throws<ScriptCallException>(() => kept!.Body(0));
        Assert.Contains("valid during its call only", e.Message);
    }

    [Fact]
    public void PostAndBurstDrain_AllocateNothingPerMessage()
    {
        int handled = 0;
        var mailbox = new IpcMailbox("svc://s", _vnode.Context, null, b => handled += b.Count);
        void Round()
        {
            for (int i = 0; i < IpcMailbox.BurstLimit; i++) mailbox.TryPost(Message(i));
            _loop.RunAll();
        }
        Round(); // first call: type loading and compilation allocate on the thread
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 20; r++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(21 * IpcMailbox.BurstLimit, handled);
        Assert.Equal(0, allocated);
    }

    /// <summary>A V-Node's loop run by hand: posted work waits until the test runs it; invocations call the handler at once.</summary>
    private sealed class ManualLoop : IScriptDispatcher
    {
        private readonly Queue<(Action<object?> Work, object? State)> _work = new(16);

        public bool Refuse { get; set; }

        public int Queued => _work.Count;

        public int Invocations { get; private set; }

        public bool Dispatch<T>(Action<T> handler, T argument) => throw new NotSupportedException("the channel posts and invokes");

        public bool Post(Action<object?> work, object? state)
        {
            if (Refuse) return false;
            _work.Enqueue((work, state));
            return true;
        }

        public bool Invoke<T>(Action<T> handler, T argument)
        {
            Invocations++;
            handler(argument);
            return true;
        }

        public void RunOne()
        {
            var (work, state) = _work.Dequeue();
            work(state);
        }

        /// <summary>Runs work until none is queued; returns how many items ran.</summary>
        public int RunAll()
        {
            int n = 0;
            for (; _work.Count > 0; n++) RunOne();
            return n;
        }
    }
}
