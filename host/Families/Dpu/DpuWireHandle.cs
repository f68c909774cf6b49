using System.Diagnostics;
using NicScript.Driver.Wire;

using NicScript.Host.Capabilities;

namespace NicScript.Host.Families.Dpu;

/// <summary>
/// The outside end of one of the DPU's cables (<c>dpu.wire("optical0")</c>, <c>"soc1"</c>, …): a frame generator that sends
/// the frames of a traffic spec into the DPU and counts what the DPU sends back, plus the cable's carrier (pull it to test
/// link monitoring and bond failover).
/// </summary>
public sealed class DpuWireHandle
{
    private readonly FrameGenerator _generator;
    private Stopwatch? _paced;
    private long _pacedSent;

    internal DpuWireHandle(FrameGenerator generator) => _generator = generator;

    private CancellationTokenSource? _running;
    private Task? _pacer;

    /// <summary>Unplugs the generator (stopping a paced stream first): the cable's outside end is free again.</summary>
    internal void Release()
    {
        Stop();
        _generator.Dispose();
    }

    /// <summary>Starts a stream at <paramref name="framesPerSecond"/> for <paramref name="seconds"/> on its own thread, paced in
    /// real time whatever the script's loop is doing (its timers may run late; the stream does not bunch up).</summary>
    [ScriptApi]
    public void Start(double framesPerSecond, double seconds)
    {
        if (framesPerSecond is <= 0 or > 1e8) throw new ScriptCallException($"dpu wire start({framesPerSecond}): 0..1e8 frames/s");
        if (seconds is <= 0 or > 3600) throw new ScriptCallException($"dpu wire start(…, {seconds}): 0..3600 s");
        if (Running) throw new ScriptCallException($"dpu wire {Name}: a stream is already running; stop() it first");
        _running = new CancellationTokenSource();
        CancellationToken cancel = _running.Token;
        _pacer = Task.Factory.StartNew(() => _generator.Run(framesPerSecond, TimeSpan.FromSeconds(seconds), cancel), cancel,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>True while a stream started by <see cref="Start"/> is sending.</summary>
    [ScriptApi] public bool Running => _pacer is { IsCompleted: false };

    /// <summary>Stops a running stream (and waits for its last frame).</summary>
    [ScriptApi]
    public void Stop()
    {
        _running?.Cancel();
        _pacer?.Wait();
        _running?.Dispose();
        _running = null;
    }

    [ScriptApi] public string Name => _generator.Link.Name;

    /// <summary>The frames to send: <c>{size, dmac, smac, vlan, source, destination, protocol, source_port, destination_port,
    /// flows}</c>, every field optional (64-byte UDP/IPv4 by default); returns the wire.</summary>
    [ScriptApi]
    public DpuWireHandle Configure(TrafficSpec spec)
    {
        if (spec.Problem() is { } why) throw new ScriptCallException("dpu wire configure: " + why);
        _generator.Configure(spec);
        _paced = null;
        return this;
    }

    /// <summary>Sends <paramref name="count"/> frames now.</summary>
    [ScriptApi]
    public void Send(int count)
    {
        if (count is < 0 or > 10_000_000) throw new ScriptCallException($"dpu wire send({count}): 0..10000000");
        _generator.Send(count);
    }

    /// <summary>Paced sending for a loop or a timer: sends the frames due at <paramref name="framesPerSecond"/> since the
    /// first call (after a configure), so calling it often keeps the average rate; returns how many it sent now.</summary>
    [ScriptApi]
    public int SendDue(double framesPerSecond)
    {
        if (framesPerSecond is <= 0 or > 1e8) throw new ScriptCallException($"dpu wire sendDue({framesPerSecond}): 0..1e8 frames/s");
        if (_paced is null)
        {
            _paced = Stopwatch.StartNew();
            _pacedSent = 0;
        }
        long due = (long)(_paced.Elapsed.TotalSeconds * framesPerSecond) + 1;
        int now = (int)Math.Min(due - _pacedSent, 1_000_000);
        _generator.Send(now);
        _pacedSent += now;
        return now;
    }

    [ScriptApi] public double Sent => _generator.Sent;
    [ScriptApi] public double SentBytes => _generator.SentBytes;
    /// <summary>Frames the DPU put on this cable.</summary>
    [ScriptApi] public double Received => _generator.Received;
    [ScriptApi] public double ReceivedBytes => _generator.ReceivedBytes;

    /// <summary>The cable's carrier.</summary>
    [ScriptApi] public bool Carrier => _generator.Link.Carrier;

    /// <summary>Pulls the cable (false: the optical port's link goes down) or plugs it back (true).</summary>
    [ScriptApi] public void SetCarrier(bool up) => _generator.Link.SetCarrier(up);
}
