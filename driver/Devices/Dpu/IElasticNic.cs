using NicScript.Driver.Wire;

namespace NicScript.Driver.Devices.Dpu;

/// <summary>
/// An elastic NIC as the DPU places it and its switch drives it: the function on the host's bus (<see cref="Model"/>),
/// its configuration (SetPortCfg) and its data path — transmit pulled by the switch, receive into a chosen queue.
/// </summary>
/// <remarks>
/// Design: the DPU family names no NIC family; a factory at the top of the driver (<see cref="IDpuFunctionFactory"/>)
/// makes these. The switch reads the MTU per frame from its own copy (refreshed by <see cref="DpuSwitch.HostMacChanged"/>),
/// so a delivered burst costs two calls here (<see cref="ActivePairs"/>, <see cref="DeliverBurst"/>), each into one sealed type.
/// </remarks>
public interface IElasticNic
{
    /// <summary>The function the DPU places on the host's bus and plugs into the switch.</summary>
    INicModel Model { get; }

    /// <summary>max_virtqueue_pairs: the pairs a driver may enable.</summary>
    int MaxPairs { get; }

    /// <summary>Queue pairs the host driver has in use (0 with no driver).</summary>
    int ActivePairs { get; }

    /// <summary>New MTU and MAC in the function's config space (a config interrupt when they changed); false when nothing changed.</summary>
    bool Reconfigure(ushort mtu, ReadOnlySpan<byte> mac);

    /// <summary>A new pair limit or feature set, offered from the next negotiation; false when nothing changed.</summary>
    bool Renegotiate(int maxPairs, ulong? features);

    /// <summary>Who serves the function's TX doorbell instead of the notifying thread (null: the function itself); it
    /// then calls <see cref="ProcessTx"/>.</summary>
    Action<IElasticNic>? TxDoorbell { set; }

    /// <summary>True: a transmit buffer outside the function's DMA space fails that frame (the vport's tx_error).</summary>
    bool BadTxBufferIsFrameError { set; }

    /// <summary>Runs the function's TX queues: their frames go out on its wire.</summary>
    void ProcessTx();

    /// <summary>A frame into receive queue <paramref name="queue"/>; false when it was dropped (and counted).</summary>
    bool Deliver(ReadOnlySpan<byte> frame, int queue);

    /// <summary>A burst: frame i into receive queue <paramref name="queues"/>[i], under one receive lock and one ring
    /// publish; <paramref name="delivered"/>[i] is false when frame i was dropped (and counted).</summary>
    void DeliverBurst(FrameBatch frames, ReadOnlySpan<int> queues, Span<bool> delivered);
}
