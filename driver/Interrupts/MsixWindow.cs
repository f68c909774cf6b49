namespace NicScript.Driver.Interrupts;

/// <summary>Routes a BAR access to a function's MSI-X table or PBA: the one decode every device with MSI-X in a BAR uses.</summary>
/// <remarks>
/// Design (PCI 3.0 §6.8.2): software reaches the table and the PBA with aligned DWORD or QWORD accesses only; anything else
/// is undefined, so the window decodes an access only when it is 4 or 8 bytes, aligned to its size within its structure,
/// and lies entirely inside the table or entirely inside the PBA. Everything else (straddling an end, in a gap, past the
/// end, a byte or a word) is not decoded: the device answers it as it answers any register it does not have. The PBA is
/// read-only: a write to it is decoded and ignored.
/// </remarks>
internal sealed class MsixWindow
{
    private readonly MsixTable _table;
    private readonly int _tableOffset, _pbaOffset;

    /// <param name="tableOffset">Offset of the table within the BAR.</param>
    /// <param name="pbaOffset">Offset of the pending-bit array within the same BAR.</param>
    public MsixWindow(MsixTable table, int tableOffset, int pbaOffset)
    {
        _table = table;
        _tableOffset = tableOffset;
        _pbaOffset = pbaOffset;
    }

    /// <summary>Where an access of <paramref name="size"/> bytes at BAR offset <paramref name="offset"/> lands;
    /// <paramref name="at"/> is its offset within the table or PBA.</summary>
    public MsixWindowPart Decode(int offset, int size, out int at)
    {
        if (size is 4 or 8)
        {
            if (Inside(offset, size, _tableOffset, _table.TableBytes, out at)) return MsixWindowPart.Table;
            if (Inside(offset, size, _pbaOffset, _table.PbaBytes, out at)) return MsixWindowPart.Pba;
        }
        at = 0;
        return MsixWindowPart.None;
    }

    /// <summary>A read the window decodes; false (and <paramref name="value"/> 0) for anything else.</summary>
    public bool TryRead(int offset, int size, out ulong value)
    {
        switch (Decode(offset, size, out int at))
        {
            case MsixWindowPart.Table: value = _table.ReadTable(at, size); return true;
            case MsixWindowPart.Pba: value = _table.ReadPba(at, size); return true;
            default: value = 0; return false;
        }
    }

    /// <summary>A write the window decodes (a PBA write is taken and ignored); false for anything else.</summary>
    public bool TryWrite(int offset, int size, ulong value)
    {
        switch (Decode(offset, size, out int at))
        {
            case MsixWindowPart.Table: _table.WriteTable(at, size, value); return true;
            case MsixWindowPart.Pba: return true;
            default: return false;
        }
    }

    private static bool Inside(int offset, int size, int start, int length, out int at)
    {
        long rel = (long)offset - start;
        at = (int)rel;
        return rel >= 0 && rel + size <= length && rel % size == 0;
    }
}
