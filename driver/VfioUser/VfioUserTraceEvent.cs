namespace NicScript.Driver.VfioUser;

/// <summary>One line of a function's bus trace: a register access (region, offset, size, value), a DMA mapping (IOVA, size,
/// file offset), an interrupt (index, vector), or a connection event, with the reason where there is one.</summary>
/// <param name="Index">The region (BAR 0–5, 7 configuration space) or the interrupt index (0 INTx, 2 MSI-X).</param>
/// <param name="Offset">Register offset, DMA IOVA, or the first interrupt.</param>
/// <param name="Size">Access width, mapping size, or interrupt count.</param>
/// <param name="Value">The value read or written (accesses of up to 8 bytes), or the mapping's file offset.</param>
public readonly record struct VfioUserTraceEvent(string Function, VfioUserTraceKind Kind, uint Index, ulong Offset, ulong Size, ulong Value, string? Detail = null);
