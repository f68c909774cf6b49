using System.Buffers.Binary;
using NicScript.Driver.Pci;

namespace NicScript.Driver.Devices.VirtioNet;

public sealed partial class VirtioNetDevice
{
    private ulong ReadModern(int offset, int size)
    {
        if (offset >= VirtioPci.CommonOffset && offset + size <= VirtioPci.CommonOffset + VirtioPci.CommonLength)
            return Slice(CommonSnapshot(), offset - VirtioPci.CommonOffset, size);
        if (offset == VirtioPci.IsrOffset && size == 1) return ReadIsr();
        if (offset >= VirtioPci.DeviceOffset && offset + size <= VirtioPci.DeviceOffset + VirtioPci.NetConfigLength)
            return Slice(NetConfig(), offset - VirtioPci.DeviceOffset, size);
        return size >= 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1;
    }

    private static ulong Slice(ReadOnlySpan<byte> bytes, int offset, int size)
    {
        Span<byte> v = stackalloc byte[8];
        v.Clear();
        bytes.Slice(offset, size).CopyTo(v);
        return BinaryPrimitives.ReadUInt64LittleEndian(v);
    }

    private byte[] CommonSnapshot()
    {
        var b = new byte[VirtioPci.CommonLength]; // register reads are the slow path
        lock (_regLock)
        {
            Span<byte> s = b;
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DeviceFeatureSelect..], _deviceFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DeviceFeature..], _deviceFeatureSelect < 2 ? (uint)(OfferedFeatures >> (32 * (int)_deviceFeatureSelect)) : 0);
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DriverFeatureSelect..], _driverFeatureSelect);
            BinaryPrimitives.WriteUInt32LittleEndian(s[VirtioPci.DriverFeature..], _driverFeatureSelect < 2 ? (uint)(_driverFeatures >> (32 * (int)_driverFeatureSelect)) : 0);
            BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.MsixConfig..], _msixConfig);
            BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.NumQueues..], VirtioPci.QueueCount);
            s[VirtioPci.DeviceStatus] = _status;
            s[VirtioPci.ConfigGeneration] = _configGeneration;
            BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueSelect..], _queueSelect);
            if (_queueSelect < VirtioPci.QueueCount)
            {
                QueueConfig q = _queues[_queueSelect];
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueSize..], q.Size);
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueMsixVector..], q.MsixVector);
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueEnable..], q.Enabled ? (ushort)1 : (ushort)0);
                BinaryPrimitives.WriteUInt16LittleEndian(s[VirtioPci.QueueNotifyOff..], _queueSelect);
                BinaryPrimitives.WriteUInt64LittleEndian(s[VirtioPci.QueueDesc..], q.Desc);
                BinaryPrimitives.WriteUInt64LittleEndian(s[VirtioPci.QueueDriver..], q.Driver);
                BinaryPrimitives.WriteUInt64LittleEndian(s[VirtioPci.QueueDevice..], q.Device);
            }
        }
        return b;
    }

    private byte[] NetConfig()
    {
        var b = new byte[VirtioPci.NetConfigLength];
        Mac.CopyTo(b, VirtioPci.NetMac);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(VirtioPci.NetStatus), LinkUp ? VirtioPci.NetStatusLinkUp : (ushort)0);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(VirtioPci.NetMaxPairs), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(VirtioPci.NetMtu), Mtu);
        return b;
    }

    /// <summary>Reading the ISR acknowledges the interrupt: it clears and the INTx line drops (§4.1.4.5).</summary>
    private byte ReadIsr()
    {
        byte isr = (byte)Interlocked.Exchange(ref _isr, 0);
        Intx.Deassert();
        return isr;
    }

    private void WriteModern(int offset, int size, ulong value)
    {
        if (offset >= VirtioPci.NotifyOffset && offset < VirtioPci.NotifyOffset + VirtioPci.QueueCount * VirtioPci.NotifyMultiplier && size is 2 or 4)
        {
            Notify((offset - VirtioPci.NotifyOffset) / VirtioPci.NotifyMultiplier);
            return;
        }
        if (offset < VirtioPci.CommonOffset || offset + size > VirtioPci.CommonOffset + VirtioPci.CommonLength) return; // read-only or undecoded
        lock (_regLock) WriteCommon(offset - VirtioPci.CommonOffset, size, value);
    }

    private void WriteCommon(int offset, int size, ulong value)
    {
        bool live = (_status & VirtioPci.StatusDriverOk) != 0;
        QueueConfig? q = _queueSelect < VirtioPci.QueueCount ? _queues[_queueSelect] : null;
        switch (offset, size)
        {
            case (VirtioPci.DeviceFeatureSelect, 4): _deviceFeatureSelect = (uint)value; break;
            case (VirtioPci.DriverFeatureSelect, 4): _driverFeatureSelect = (uint)value; break;
            case (VirtioPci.DriverFeature, 4) when (_status & VirtioPci.StatusFeaturesOk) == 0 && _driverFeatureSelect < 2:
                int shift = 32 * (int)_driverFeatureSelect;
                _driverFeatures = (_driverFeatures & ~(0xFFFF_FFFFUL << shift)) | ((value & 0xFFFF_FFFF) << shift);
                break;
            case (VirtioPci.MsixConfig, 2): _msixConfig = (ushort)value < Msix.Count ? (ushort)value : VirtioPci.NoVector; break;
            case (VirtioPci.DeviceStatus, 1): WriteStatus((byte)value); break;
            case (VirtioPci.QueueSelect, 2): _queueSelect = (ushort)value; break;
            // A senseless size keeps the old one (the driver reads it back), as vm-virtio's set_size does.
            case (VirtioPci.QueueSize, 2) when q is not null && !live:
                if (Queues.VirtqLayout.IsValidSize((ushort)value) && (ushort)value <= VirtioPci.MaxQueueSize) q.Size = (ushort)value;
                break;
            case (VirtioPci.QueueMsixVector, 2) when q is not null:
                q.MsixVector = (ushort)value < Msix.Count ? (ushort)value : VirtioPci.NoVector;
                break;
            case (VirtioPci.QueueEnable, 2) when q is not null && !live:
                if (value == 1) q.Enabled = true;
                break;
            case (VirtioPci.QueueDesc, 8) when q is not null && !live: q.Desc = value; break;
            case (VirtioPci.QueueDesc, 4) when q is not null && !live: q.Desc = (q.Desc & ~0xFFFF_FFFFUL) | value; break;
            case (VirtioPci.QueueDesc + 4, 4) when q is not null && !live: q.Desc = (q.Desc & 0xFFFF_FFFF) | value << 32; break;
            case (VirtioPci.QueueDriver, 8) when q is not null && !live: q.Driver = value; break;
            case (VirtioPci.QueueDriver, 4) when q is not null && !live: q.Driver = (q.Driver & ~0xFFFF_FFFFUL) | value; break;
            case (VirtioPci.QueueDriver + 4, 4) when q is not null && !live: q.Driver = (q.Driver & 0xFFFF_FFFF) | value << 32; break;
            case (VirtioPci.QueueDevice, 8) when q is not null && !live: q.Device = value; break;
            case (VirtioPci.QueueDevice, 4) when q is not null && !live: q.Device = (q.Device & ~0xFFFF_FFFFUL) | value; break;
            case (VirtioPci.QueueDevice + 4, 4) when q is not null && !live: q.Device = (q.Device & 0xFFFF_FFFF) | value << 32; break;
        }
    }

    private sealed class ModernRegisters(VirtioNetDevice device) : IMmio
    {
        public ulong Read(int offset, int size) => device.ReadModern(offset, size);

        public void Write(int offset, int size, ulong value) => device.WriteModern(offset, size, value);
    }

    private sealed class MsixRegisters(VirtioNetDevice device) : IMmio
    {
        public ulong Read(int offset, int size) => offset >= VirtioPci.MsixPbaOffset
            ? device.Msix.ReadPba(offset - VirtioPci.MsixPbaOffset, size)
            : device.Msix.ReadTable(offset - VirtioPci.MsixTableOffset, size);

        public void Write(int offset, int size, ulong value)
        {
            if (offset < VirtioPci.MsixPbaOffset) device.Msix.WriteTable(offset - VirtioPci.MsixTableOffset, size, value);
        }
    }
}
