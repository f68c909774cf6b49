using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Wire;

/// <summary>A device on a wire that, when the first frame reaches it, has another thread send <paramref name="frame"/> from
/// <paramref name="from"/> and waits for that send: what happens when two devices transmit to each other at once, each from
/// its own thread, while the first one's transmit is still on its way. A lock held across the first delivery blocks the
/// second send, and <see cref="OtherFinished"/> says so.</summary>
internal sealed class SendsFromAnotherThread(Func<WirePort> from, byte[] frame) : IFrameReceiver
{
    private int _received;

    public int Received => Volatile.Read(ref _received);

    /// <summary>Null until a frame arrived; then whether the other thread's send ended (false: it was blocked).</summary>
    public bool? OtherFinished { get; private set; }

    /// <summary>A 64-byte frame to <paramref name="to"/> from 02:00:00:00:00:09 (byte 11 is 9: the answer is recognisable).</summary>
    public static byte[] Frame(byte[] to)
    {
        var f = new byte[64];
        to.CopyTo(f, 0);
        f[6] = 0x02; f[11] = 9;
        f[12] = 0x88; f[13] = 0xB5;
        return f;
    }

    public void Receive(ReadOnlySpan<byte> f)
    {
        if (Interlocked.Increment(ref _received) > 1) return;
        var t = new Thread(() => from().Transmit(frame));
        t.Start();
        OtherFinished = t.Join(TimeSpan.FromSeconds(20)); // a deadlock, not slowness: the send takes microseconds
    }
}
