using NicScript.Driver.Pci;

namespace NicScript.Host.Families;

/// <summary>Addresses where a family places functions while a machine runs, not at its start: function 0 of devices
/// 0 to <paramref name="Count"/> − 1 on <paramref name="Bus"/> (segment 0), one per slot (a DPU's elastic NICs, device = vport).</summary>
/// <param name="What">The functions, for a console line (<c>the DPU's elastic NICs (device = vport)</c>).</param>
public sealed record HotAddSlots(string What, byte Bus, int Count)
{
    public bool Contains(PciAddress address) =>
        address.Segment == 0 && address.Bus == Bus && address.Device < Count && address.Function == 0;

    /// <summary><c>the DPU's vdisks (device = pvf_id) at 02:00.0-02:0f.0</c>.</summary>
    public override string ToString() => $"{What} at {new PciAddress(0, Bus, 0, 0).Short}-{new PciAddress(0, Bus, (byte)(Count - 1), 0).Short}";
}
