namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>A device above the GDMA transport (MANA Ethernet, as mana_en.c sits on gdma_main.c): what the transport
/// hands up to it.</summary>
/// <remarks>Every call comes with the transport's lock (<see cref="GdmaDevice.Sync"/>) held. The client builds its queues
/// with the transport's queue and DMA-region calls and answers through the <see cref="GdmaAnswer"/> it is given.</remarks>
internal interface IGdmaClient
{
    /// <summary>The device type LIST_DEVICES reports and the requests addressed to the client carry in dev_id.</summary>
    GdmaDeviceType DeviceType { get; }

    /// <summary>A request addressed to the client's device (registered, header checked); null for a type it does not know
    /// (answered CMD_UNSUPPORTED).</summary>
    byte[]? HandleRequest(uint msgType, ReadOnlySpan<byte> req, GdmaReqHdrView hdr, GdmaAnswer answer);

    /// <summary>The driver rang the doorbell of one of the client's SQs; the queue's new tail is set.</summary>
    void ProcessSq(GdmaQueue sq);

    /// <summary>The transport was reset (reset_vf, hot removal, re-enable): every queue is gone; the client forgets its state.</summary>
    void Reset();
}
