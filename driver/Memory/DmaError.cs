namespace NicScript.Driver.Memory;

/// <summary>Why a DMA access or allocation was refused. Never thrown below the handle.</summary>
public enum DmaError
{
    None = 0,
    /// <summary>The IOVA range is not inside any live region.</summary>
    OutOfBounds,
    /// <summary>The range starts in one region and runs past its end.</summary>
    CrossesRegion,
    /// <summary>The region was freed (or never existed).</summary>
    Freed,
    /// <summary>The caller neither owns nor borrows the region.</summary>
    NotOwner,
    /// <summary>The caller borrows the region read-only and tried to write.</summary>
    ReadOnly,
    /// <summary>The owner's budget would be exceeded.</summary>
    BudgetExceeded,
    /// <summary>The IOVA space has no free range that large.</summary>
    IovaExhausted,
    /// <summary>Zero or negative size, or larger than a region may be.</summary>
    BadSize,
    /// <summary>The region is lent out; revoke the loans before transferring or freeing it.</summary>
    Lent,
    /// <summary>The caller tried to transfer or lend a region to itself.</summary>
    SelfTarget,
    /// <summary>A device touched memory outside its function's IOMMU domain (not owned, lent or given to its driver), or
    /// wrote into a region its driver only borrows: a DMA fault, counted and reported.</summary>
    IommuFault,
}
