using NicScript.Driver.Memory;

namespace NicScript.Host.Capabilities;

/// <summary>The messages a <c>serveBurst</c> handler gets in one call: those that arrived since its last call, in order.</summary>
/// <remarks>
/// One object per channel, reused: it is valid during the handler's call only (afterwards every member refuses). Message i's
/// frame, if it carries one, is this V-Node's (MemShare transfer); <see cref="Read"/> and <see cref="Write"/> reach it without
/// a view object, <see cref="Frame"/> makes a view to keep. A frame the handler neither sent on (<c>ipc.forward</c>,
/// <c>tx.gather</c>) nor took as a view goes back to its NIC's pool when the call returns.
/// </remarks>
public sealed class IpcBurst
{
    private readonly IpcMailbox _mailbox;
    private readonly FrameBuffer?[] _views = new FrameBuffer?[IpcMailbox.BurstLimit];
    private readonly bool[] _moved = new bool[IpcMailbox.BurstLimit];
    private long _head;
    private int _count = -1; // -1: closed

    internal IpcBurst(IpcMailbox mailbox) => _mailbox = mailbox;

    internal VNodeContext Holder => _mailbox.Server;

    /// <summary>Messages in the burst.</summary>
    [ScriptApi] public int Count => _count >= 0 ? _count : throw Closed();

    [ScriptApi] public string Channel => _mailbox.Channel;

    [ScriptApi] public string Type(int i) => At(i).Type;

    /// <summary>The sending V-Node's name.</summary>
    [ScriptApi] public string From(int i) => At(i).From;

    [ScriptApi] public string? Body(int i) => At(i).Body;

    /// <summary>Message i's frame's length, 0 without one.</summary>
    [ScriptApi] public int Length(int i) => At(i).Pool is null ? 0 : _views[i]?.Length ?? At(i).Length;

    /// <summary>True when message i carries a frame this V-Node still holds here (not sent on, not given back).</summary>
    [ScriptApi] public bool HasFrame(int i) => Held(i, out _);

    /// <summary>Message i's frame as a view to keep after the call (the same view on every call for i).</summary>
    [ScriptApi]
    public FrameBuffer Frame(int i)
    {
        if (_views[i] is { } view) return view;
        ref IpcMailbox.Envelope e = ref Live(i);
        return _views[i] = new FrameBuffer(Holder, e.Pool!, e.Slot, e.Length);
    }

    /// <summary>Copies message i's frame into <paramref name="into"/>; returns its length.</summary>
    [ScriptApi]
    public int Read(int i, byte[] into)
    {
        ref IpcMailbox.Envelope e = ref Live(i);
        int length = Length(i);
        if (into.Length < length) throw new ScriptCallException($"ipc burst: message {i}'s frame is {length} bytes, the array {into.Length}");
        e.Pool!.Frame(e.Slot, length).CopyTo(into);
        return length;
    }

    /// <summary>Replaces message i's frame with the first <paramref name="length"/> bytes of <paramref name="frame"/> (0: nothing
    /// left to send), in its own buffer.</summary>
    [ScriptApi]
    public void Write(int i, byte[] frame, int length)
    {
        ref IpcMailbox.Envelope e = ref Live(i);
        if (length < 0 || length > frame.Length || length > e.Pool!.MaxFrame)
            throw new ScriptCallException($"ipc burst: length {length}: 0..{Math.Min(frame.Length, e.Pool!.MaxFrame)}");
        frame.AsSpan(0, length).CopyTo(e.Pool.Frame(e.Slot, length));
        e.Length = length;
        _views[i]?.SetLength(length);
    }

    /// <summary>Takes message i's frame out of the burst to send it on (its slot and length), if it is still held here.</summary>
    internal bool TryMove(int i, out FramePool pool, out int slot, out int length)
    {
        if (!Held(i, out IpcMailbox.Envelope e))
        {
            (pool, slot, length) = (null!, -1, 0);
            return false;
        }
        _moved[i] = true;
        (pool, slot, length) = (e.Pool!, e.Slot, _views[i]?.Length ?? e.Length);
        return true;
    }

    /// <summary>Frames still held here and not sent on.</summary>
    internal int HeldFrames()
    {
        int n = 0;
        for (int i = 0; i < Count; i++)
            if (Held(i, out _)) n++;
        return n;
    }

    internal void Open(long head, int count)
    {
        _head = head;
        _count = count;
    }

    /// <summary>The call returned: frames left here go home; the burst refuses every call from now on.</summary>
    internal void Close()
    {
        for (int i = 0; i < _count; i++)
        {
            if (_views[i] is null && Held(i, out IpcMailbox.Envelope e))
            {
                if (ReferenceEquals(Holder.DmaOwner, e.Pool!.Owner)) e.Pool.Return(e.Slot); // on the owner's loop: the free list is ours
                else e.Pool.GiveBack(e.Slot, Holder.DmaOwner);
            }
            _views[i] = null;
            _moved[i] = false;
        }
        _count = -1;
    }

    private bool Held(int i, out IpcMailbox.Envelope e)
    {
        e = At(i);
        return e.Pool is not null && !_moved[i] && e.Pool.TryGetFrame(Holder.DmaOwner, e.Slot, e.Generation, 0, out _) == DmaError.None;
    }

    private ref IpcMailbox.Envelope At(int i)
    {
        if (_count < 0) throw Closed();
        if ((uint)i >= (uint)_count) throw new ScriptCallException($"ipc burst: message {i}: the burst has {_count}");
        return ref _mailbox.At(_head + i);
    }

    /// <summary>Message i, whose frame must still be held here.</summary>
    private ref IpcMailbox.Envelope Live(int i)
    {
        ref IpcMailbox.Envelope e = ref At(i);
        if (e.Pool is null) throw new ScriptCallException($"ipc burst: message {i} ({e.Type}) carries no frame");
        if (!Held(i, out _)) throw new ScriptCallException($"ipc burst: message {i}'s frame is no longer here (sent on or given back)");
        return ref e;
    }

    private static ScriptCallException Closed() => new("ipc burst: used after its handler returned (a burst is valid during its call only)");

    public override string ToString() => _count >= 0 ? $"ipc burst of {_count} on {Channel}" : $"ipc burst on {Channel} (closed)";
}
