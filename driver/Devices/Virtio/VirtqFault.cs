namespace NicScript.Driver.Devices.Virtio;

/// <summary>Why a device stopped trusting a virtqueue: each puts the device in DEVICE_NEEDS_RESET.</summary>
public enum VirtqFault
{
    None = 0,
    /// <summary>avail.idx moved more than the queue size past what the device consumed.</summary>
    AvailIndexRunsAhead,
    /// <summary>A head or next index is not below the queue size.</summary>
    DescriptorIndexOutOfRange,
    /// <summary>A descriptor's buffer is not inside the function's IOMMU domain (no region, runs past its region, another's
    /// region, or a borrowed one the device would write): a DMA fault, counted by the domain.</summary>
    DescriptorOutsideDma,
    /// <summary>A chain visits more descriptors than the table has: a loop.</summary>
    ChainLoop,
    /// <summary>An indirect table whose length is zero or not a multiple of 16, or an indirect descriptor with NEXT.</summary>
    BadIndirectTable,
    /// <summary>An indirect descriptor inside an indirect table.</summary>
    NestedIndirect,
    /// <summary>A device-readable descriptor after a device-writable one.</summary>
    ReadableAfterWritable,
    /// <summary>The ring areas are not inside the function's IOMMU domain (or left it: freed, transferred away, detached).</summary>
    RingOutsideDma,
    /// <summary>A chain has more segments than the device accepts.</summary>
    ChainTooLong,
    /// <summary>The driver used an indirect descriptor without negotiating VIRTIO_F_INDIRECT_DESC.</summary>
    IndirectNotNegotiated,
}
