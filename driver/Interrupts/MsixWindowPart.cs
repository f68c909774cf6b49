namespace NicScript.Driver.Interrupts;

/// <summary>What an access to an MSI-X window reaches.</summary>
internal enum MsixWindowPart
{
    None,
    Table,
    Pba,
}
