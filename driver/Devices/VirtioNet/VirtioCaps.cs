using NicScript.Driver.Pci;

namespace NicScript.Driver.Devices.VirtioNet;

/// <summary>Where a virtio function's register blocks are, found by walking its vendor capabilities (§4.1.4), and access to them.</summary>
internal sealed class VirtioCaps
{
    private readonly PciFunction _f;
    private (int Bar, int Offset) _common, _isr, _device, _notify;
    private int _notifyMultiplier;
    private readonly int[] _notifyAt = new int[VirtioPci.QueueCount];

    private VirtioCaps(PciFunction f) => _f = f;

    public static VirtioCaps Find(PciFunction f)
    {
        var caps = new VirtioCaps(f);
        bool common = false, isr = false, device = false, notify = false;
        foreach (int at in f.FindCapabilities(VirtioPci.CapVendor))
        {
            byte type = (byte)f.Config.Read(at + 3, 1);
            int bar = (int)f.Config.Read(at + 4, 1), offset = (int)f.Config.Read32(at + 8);
            switch (type)
            {
                case VirtioPci.CfgCommon when !common: caps._common = (bar, offset); common = true; break;
                case VirtioPci.CfgIsr when !isr: caps._isr = (bar, offset); isr = true; break;
                case VirtioPci.CfgDevice when !device: caps._device = (bar, offset); device = true; break;
                case VirtioPci.CfgNotify when !notify:
                    caps._notify = (bar, offset);
                    caps._notifyMultiplier = (int)f.Config.Read32(at + 16);
                    notify = true;
                    break;
            }
        }
        if (!(common && isr && device && notify))
            throw new VirtioDriverException($"{f.Address}: missing virtio capabilities (common {common}, isr {isr}, device {device}, notify {notify})");
        return caps;
    }

    public ulong ReadCommon(int offset, int size) => _f.ReadBar(_common.Bar, _common.Offset + offset, size);

    public void WriteCommon(int offset, int size, ulong value) => _f.WriteBar(_common.Bar, _common.Offset + offset, size, value);

    public byte ReadStatus() => (byte)ReadCommon(VirtioPci.DeviceStatus, 1);

    public void WriteStatus(byte status) => WriteCommon(VirtioPci.DeviceStatus, 1, status);

    public ulong ReadFeatures()
    {
        WriteCommon(VirtioPci.DeviceFeatureSelect, 4, 0);
        ulong lo = ReadCommon(VirtioPci.DeviceFeature, 4);
        WriteCommon(VirtioPci.DeviceFeatureSelect, 4, 1);
        return lo | ReadCommon(VirtioPci.DeviceFeature, 4) << 32;
    }

    public void WriteFeatures(ulong features)
    {
        WriteCommon(VirtioPci.DriverFeatureSelect, 4, 0);
        WriteCommon(VirtioPci.DriverFeature, 4, features & 0xFFFF_FFFF);
        WriteCommon(VirtioPci.DriverFeatureSelect, 4, 1);
        WriteCommon(VirtioPci.DriverFeature, 4, features >> 32);
    }

    public ulong ReadDevice(int offset, int size) => _f.ReadBar(_device.Bar, _device.Offset + offset, size);

    public ulong ReadIsr() => _f.ReadBar(_isr.Bar, _isr.Offset, 1);

    /// <summary>Reads queue <paramref name="queue"/>'s notify offset once (the driver has selected it), so a doorbell is one write.</summary>
    public void LearnNotify(int queue) => _notifyAt[queue] = _notify.Offset + (int)ReadCommon(VirtioPci.QueueNotifyOff, 2) * _notifyMultiplier;

    /// <summary>The doorbell: queue <paramref name="queue"/>'s notify address is offset + queue_notify_off × multiplier.</summary>
    public void Notify(int queue) => _f.WriteBar(_notify.Bar, _notifyAt[queue], 2, (ulong)queue);
}
