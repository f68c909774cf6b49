using System.Diagnostics;
using System.Globalization;
using NicScript.Driver.Wire;

namespace NicScript.Host.Capabilities;

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

    /// <summary>Unplugs the generator: the cable's outside end is free again.</summary>
    internal void Release() => _generator.Dispose();

    [ScriptApi] public string Name => _generator.Link.Name;

    /// <summary>The frames to send: <c>{size, dmac, smac, vlan, source, destination, protocol, source_port, destination_port,
    /// flows}</c>, every field optional (64-byte UDP/IPv4 by default); returns the wire.</summary>
    [ScriptApi]
    public DpuWireHandle Configure(IDictionary<string, object?> spec)
    {
        var s = new TrafficSpec();
        foreach (var (key, value) in spec)
        {
            string text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            int Int() => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n
                : throw new ScriptCallException($"dpu wire configure: {key} '{text}' is not a whole number");
            s = key switch
            {
                "size" => s with { Size = Int() },
                "dmac" => s with { Dmac = text },
                "smac" => s with { Smac = text },
                "vlan" => s with { Vlan = Int() },
                "source" => s with { Source = text },
                "destination" => s with { Destination = text },
                "protocol" => s with { Protocol = Int() },
                "source_port" => s with { SourcePort = Int() },
                "destination_port" => s with { DestinationPort = Int() },
                "flows" => s with { Flows = Int() },
                _ => throw new ScriptCallException($"dpu wire configure: unknown field {key} (size, dmac, smac, vlan, source, destination, protocol, source_port, destination_port, flows)"),
            };
        }
        return Configure(s);
    }

    /// <summary>The C# form: a <see cref="TrafficSpec"/>.</summary>
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
