using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Queues;

namespace NicScript.Driver.Devices.Virtio;

/// <summary>Where a virtio function's register blocks are, found by walking its vendor capabilities (§4.1.4), and access to them.</summary>
internal sealed class VirtioCaps
{
    private readonly PciFunction _f;
    private (int Bar, int Offset) _common, _isr, _device, _notify;
    private int _notifyMultiplier;
    private int[] _notifyAt = new int[VirtioPci.QueueCount];

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
    public void LearnNotify(int queue)
    {
        if (queue >= _notifyAt.Length) Array.Resize(ref _notifyAt, queue + 1);
        _notifyAt[queue] = _notify.Offset + (int)ReadCommon(VirtioPci.QueueNotifyOff, 2) * _notifyMultiplier;
    }

    /// <summary>The doorbell: queue <paramref name="queue"/>'s notify address is offset + queue_notify_off × multiplier.</summary>
    public void Notify(int queue) => _f.WriteBar(_notify.Bar, _notifyAt[queue], 2, (ulong)queue);

    /// <summary>Turns MSI-X on, unmasks vectors 0 … <paramref name="vectors"/> − 1 and routes config changes to vector 0.</summary>
    public void EnableMsix(int vectors)
    {
        int cap = _f.FindCapabilities(MsixTable.CapabilityId).FirstOrDefault();
        if (cap == 0) throw Fail("no MSI-X capability");
        _f.Config.Write(cap + 2, 2, 0x8000);
        uint tableBir = _f.Config.Read32(cap + 4);
        int bar = (int)(tableBir & 7), offset = (int)(tableBir & ~7u);
        for (int v = 0; v < vectors; v++) _f.WriteBar(bar, offset + v * MsixTable.EntrySize + 12, 4, 0); // unmask
        WriteCommon(VirtioPci.MsixConfig, 2, 0);
    }

    /// <summary>Attaches <paramref name="owner"/> (what the driver allocates rings and buffers from) to the function's IOMMU
    /// domain; the driver disposes it when it lets the device go.</summary>
    public DmaAttachment AttachDma(DmaOwner owner) =>
        _f.Dma?.Attach(owner) ?? throw Fail("the function has no IOMMU domain (it does no DMA)");

    /// <summary>Gives up on the device: sets FAILED in its status and returns the error to throw.</summary>
    public VirtioDriverException Fail(string why)
    {
        WriteStatus((byte)(ReadStatus() | VirtioPci.StatusFailed));
        return new VirtioDriverException($"{_f.Address}: {why}");
    }

    /// <summary>Checks that <paramref name="f"/> is a virtio function of the given subsystem (device type), turns on memory
    /// space and bus mastering, and finds its register blocks.</summary>
    public static VirtioCaps Open(PciFunction f, ushort subsystem, string kind)
    {
        if (f.VendorId != VirtioPci.VendorId || f.Config.Read16(ConfigSpace.SubsystemId) != subsystem)
            throw new VirtioDriverException($"{f.Address}: not a {kind} function ({f.VendorId:x4}:{f.DeviceId:x4})");
        f.Config.Write(ConfigSpace.Command, 2, 0x0006u | f.Config.Read16(ConfigSpace.Command)); // memory space, bus master
        return Find(f);
    }

    /// <summary>§3.1.1 up to FEATURES_OK: reset, ACKNOWLEDGE, DRIVER, the offered features that are also
    /// <paramref name="wanted"/> (VERSION_1 required), FEATURES_OK read back. Returns the accepted features.</summary>
    public ulong Negotiate(ulong wanted)
    {
        WriteStatus(0);
        if (ReadStatus() != 0) throw new VirtioDriverException($"{_f.Address}: reset did not clear the status");
        WriteStatus(VirtioPci.StatusAcknowledge);
        WriteStatus(VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver);
        ulong accepted = ReadFeatures() & wanted;
        if ((accepted & 1UL << VirtioPci.FeatureVersion1) == 0) throw Fail("the device does not offer VIRTIO_F_VERSION_1");
        WriteFeatures(accepted);
        WriteStatus(VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver | VirtioPci.StatusFeaturesOk);
        if ((ReadStatus() & VirtioPci.StatusFeaturesOk) == 0) throw Fail("the device refused the features (FEATURES_OK did not stick)");
        return accepted;
    }

    /// <summary>Allocates queue <paramref name="q"/>'s rings (at most <paramref name="queueSize"/> entries, no more than the
    /// device allows), tells the device where they are, routes it to <paramref name="vector"/> and enables it.</summary>
    public SplitVirtqueueDriver SetUpQueue(ushort q, DmaMemory memory, DmaOwner owner, int queueSize, bool eventIdx, ushort vector, bool interrupts)
    {
        WriteCommon(VirtioPci.QueueSelect, 2, q);
        int max = (int)ReadCommon(VirtioPci.QueueSize, 2);
        int size = Math.Min(max, queueSize);
        if (!VirtqLayout.IsValidSize(size)) throw Fail($"queue {q}: bad size {size} (device max {max})");
        WriteCommon(VirtioPci.QueueSize, 2, (ulong)size);
        DmaError e = SplitVirtqueueDriver.TryCreate(memory, owner, size, eventIdx, out SplitVirtqueueDriver queue);
        if (e != DmaError.None) throw Fail($"queue {q}: cannot allocate rings: {e}");
        WriteCommon(VirtioPci.QueueDesc, 8, queue.DescIova);
        WriteCommon(VirtioPci.QueueDriver, 8, queue.AvailIova);
        WriteCommon(VirtioPci.QueueDevice, 8, queue.UsedIova);
        WriteCommon(VirtioPci.QueueMsixVector, 2, vector);
        WriteCommon(VirtioPci.QueueEnable, 2, 1);
        LearnNotify(q);
        queue.SetInterrupts(interrupts);
        return queue;
    }

    /// <summary>Sets DRIVER_OK and checks that the device took it.</summary>
    public void DriverOk()
    {
        WriteStatus(VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver | VirtioPci.StatusFeaturesOk | VirtioPci.StatusDriverOk);
        byte status = ReadStatus();
        if ((status & VirtioPci.StatusDeviceNeedsReset) != 0 || (status & VirtioPci.StatusDriverOk) == 0)
            throw Fail($"the device did not accept DRIVER_OK (status 0x{status:x2})");
    }
}
