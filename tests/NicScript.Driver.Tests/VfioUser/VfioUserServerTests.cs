using System.Buffers.Binary;
using System.Text.Json;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Virtio;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>A client speaking vfio-user as QEMU does, over a real Unix socket with a memfd as guest RAM and real eventfds,
/// drives an exported virtio-net function.</summary>
public sealed class VfioUserServerTests : IDisposable
{
    private const uint Bar = VirtioPci.ModernBar, Config = VfioUserSession.RegionConfig, Msix = IrqForwarder.IndexMsix;
    private const ulong Desc = 0x10000, Avail = 0x11000, Used = 0x12000, Buffer = 0x20000, RamBytes = 1 << 20;

    private readonly string _dir = Directory.CreateTempSubdirectory("vfio-user-").FullName;
    private readonly RecordingEvents _events = new();
    private readonly MemoryStream _traceBytes = new();
    private readonly JsonLinesTrace _trace;
    private readonly ExportedFunction _fn;
    private readonly GuestRam _ram = new((int)RamBytes);

    public VfioUserServerTests()
    {
        _trace = new JsonLinesTrace(_traceBytes);
        _fn = new ExportedFunction(_dir, 0x1f, _events, _trace);
    }

    public void Dispose()
    {
        _fn.Dispose();
        _ram.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Version_ClientOffersZeroZero_ServerRepliesZeroZeroWithItsLimits()
    {
        using VfioUserTestClient c = _fn.Connect();
        VfioUserTestClient.Reply r = c.Version();
        Assert.False(r.IsError);
        Assert.Equal(WireError.None, VfioUserVersion.TryRead(r.Body, out VfioUserVersion v));
        Assert.Equal((0, 0), (v.Major, v.Minor));
        JsonElement caps = JsonDocument.Parse(v.Capabilities).RootElement.GetProperty("capabilities");
        Assert.Equal(16, caps.GetProperty("max_msg_fds").GetInt32());
        Assert.Equal(4096, caps.GetProperty("pgsizes").GetInt32());
        Assert.Equal(1 << 20, caps.GetProperty("max_data_xfer_size").GetInt32());
        Assert.Equal(GuestMemory.MaxMappings, caps.GetProperty("max_dma_maps").GetInt32());
    }

    [Fact]
    public void Version_ReplyIsNeverLongerThanTheRequest_ATerseClientGetsTheDefaults()
    {
        using VfioUserTestClient c = _fn.Connect();
        byte[] body = VfioUserTestClient.VersionBody("{}");
        VfioUserTestClient.Reply r = c.Request(VfioUserCommand.Version, body);
        Assert.Equal(WireError.None, VfioUserVersion.TryRead(r.Body, out VfioUserVersion v));
        Assert.Equal("{}", v.Capabilities);
        Assert.True(r.Body.Length <= body.Length);
    }

    [Fact]
    public void DeviceInfo_IsAResettablePciDeviceWithNineRegionsAndFiveIrqIndexes()
    {
        using VfioUserTestClient c = _fn.Connect();
        c.Version();
        var body = new byte[VfioUserDeviceInfo.Length];
        new VfioUserDeviceInfo(VfioUserDeviceInfo.Length, 0, 0, 0).Write(body);
        VfioUserTestClient.Reply r = c.Request(VfioUserCommand.DeviceGetInfo, body);
        Assert.Equal(WireError.None, VfioUserDeviceInfo.TryRead(r.Body, out VfioUserDeviceInfo info));
        Assert.Equal((VfioUserDeviceInfo.FlagReset | VfioUserDeviceInfo.FlagPci, 9u, 5u), (info.Flags, info.NumRegions, info.NumIrqs));
    }

    [Fact]
    public void RegionInfo_BarsHaveTheModelsSizesAndConfigSpaceIs4K()
    {
        using VfioUserTestClient c = _fn.Connect();
        c.Version();
        for (uint i = 0; i < 9; i++)
        {
            Assert.Equal(WireError.None, VfioUserRegionInfo.TryRead(c.RegionInfo(i).Body, out VfioUserRegionInfo info));
            ulong expected = i == Config ? ConfigSpace.Size : i < 6 ? _fn.Device.Function.Bar((int)i)?.Size ?? 0 : 0;
            Assert.Equal((i, expected), (info.Index, info.Size));
            Assert.Equal(expected == 0 ? 0u : VfioUserRegionInfo.FlagRead | VfioUserRegionInfo.FlagWrite, info.Flags);
        }
        Assert.Equal(VirtioPci.ModernBarSize, (int)_fn.Device.Function.Bar(VirtioPci.ModernBar)!.Size);
    }

    [Fact]
    public void ConfigRead_WholeSpaceAsQemuReadsIt_GivesTheModelsVendorDeviceAndClass()
    {
        using VfioUserTestClient c = _fn.Connect();
        c.Version();
        VfioUserTestClient.Reply r = c.RegionRead(Config, 0, 256);
        Span<byte> cfg = r.Body.AsSpan(VfioUserRegionAccess.Length);
        Assert.Equal(256, cfg.Length);
        Assert.Equal((0x1af4, 0x1000), (BinaryPrimitives.ReadUInt16LittleEndian(cfg), BinaryPrimitives.ReadUInt16LittleEndian(cfg[2..])));
        Assert.Equal(0x020000u, BinaryPrimitives.ReadUInt32LittleEndian(cfg[8..]) >> 8);
    }

    [Fact]
    public void IrqInfo_CountsTheModelsMsixVectorsAndOneIntx()
    {
        using VfioUserTestClient c = _fn.Connect();
        c.Version();
        Assert.Equal(WireError.None, VfioUserIrqInfo.TryRead(c.IrqInfo(Msix).Body, out VfioUserIrqInfo msix));
        Assert.Equal((uint)_fn.Device.Msix.Count, msix.Count);
        Assert.Equal(WireError.None, VfioUserIrqInfo.TryRead(c.IrqInfo(IrqForwarder.IndexIntx).Body, out VfioUserIrqInfo intx));
        Assert.Equal(1u, intx.Count);
        Assert.Equal(VfioUserIrqInfo.FlagEventfd | VfioUserIrqInfo.FlagMaskable | VfioUserIrqInfo.FlagAutomasked, intx.Flags);
    }

    [Fact]
    public void FrameOnTheWire_IsWrittenIntoGuestRamAndFiresTheMsixVectorsEventfd()
    {
        using VfioUserTestClient c = _fn.Connect();
        using var vector0 = new EventFd();
        c.Version();
        Assert.False(c.DmaMap(0, 0, RamBytes, VfioUserDmaMap.FlagRead | VfioUserDmaMap.FlagWrite, _ram.Fd).IsError);
        Assert.False(c.SetIrqs(Msix, 0, 1, VfioUserIrqSet.DataEventfd | VfioUserIrqSet.ActionTrigger, vector0.Fd).IsError);
        BringUpRxQueue(c, Desc);
        PostRxBuffer(c);

        byte[] frame = new byte[60];
        new byte[] { 0x52, 0x54, 0, 0x12, 0x34, 0x1f, 2, 0, 0, 0, 0, 1, 0x88, 0xB5 }.CopyTo(frame, 0);
        frame[59] = 0x5a;
        _fn.Peer.Transmit(frame);

        Assert.NotEqual(0ul, vector0.Wait(TimeSpan.FromSeconds(5)));
        Span<byte> ram = _ram.Bytes;
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(ram[(int)(Used + 2)..]));
        Assert.Equal(VirtioPci.NetHdrSize + frame.Length, BinaryPrimitives.ReadInt32LittleEndian(ram[(int)(Used + 8)..]));
        Assert.True(ram.Slice((int)Buffer + VirtioPci.NetHdrSize, frame.Length).SequenceEqual(frame));
        string trace = System.Text.Encoding.UTF8.GetString(_traceBytes.ToArray());
        Assert.Contains("\"ev\":\"dma_map\"", trace);
        Assert.Contains("\"ev\":\"interrupt\",\"index\":2", trace);
        Assert.Contains("\"ev\":\"doorbell\",\"index\":4,\"offset\":12288", trace); // the RX queue's notify register
        Assert.Contains("\"ev\":\"bar_write\",\"index\":4,\"offset\":20", trace);    // device status: a register, not a doorbell
    }

    [Fact]
    public void QueueOutsideWhatTheGuestMapped_FailsClosedAsADmaFaultOfTheFunction()
    {
        using VfioUserTestClient c = _fn.Connect();
        c.Version();
        Assert.False(c.DmaMap(0, 0, RamBytes, VfioUserDmaMap.FlagRead | VfioUserDmaMap.FlagWrite, _ram.Fd).IsError);
        BringUpRxQueue(c, desc: RamBytes + 0x10000); // past the end of the mapping

        Assert.True(_fn.Guest.Domain.Faults > 0);
        Assert.Contains(_events.DmaFaults, f => f.Function == "0000:00:1f.0" && f.Iova == RamBytes + 0x10000);
        Assert.NotEqual(0ul, c.Read(Bar, VirtioPci.CommonOffset + VirtioPci.DeviceStatus, 1) & 0x40); // DEVICE_NEEDS_RESET
    }

    [Fact]
    public void ClientLeaves_DeviceIsResetAndEveryMappingDropped()
    {
        using (VfioUserTestClient c = _fn.Connect())
        {
            c.Version();
            Assert.False(c.DmaMap(0, 0, RamBytes, VfioUserDmaMap.FlagRead | VfioUserDmaMap.FlagWrite, _ram.Fd).IsError);
            BringUpRxQueue(c, Desc);
            Assert.Single(_fn.Guest.Mappings);
        }
        Assert.True(SpinWait.SpinUntil(() => _fn.Server.Clients == 1 && !_fn.Server.Connected, TimeSpan.FromSeconds(5)));
        Assert.Empty(_fn.Guest.Mappings);
        Assert.Empty(_fn.Guest.Memory.Regions);
        Assert.Equal(0, _fn.Device.EnabledQueues);
        Assert.Null(_fn.Server.LastCloseReason);

        using VfioUserTestClient again = _fn.Connect(); // a hot re-add connects again and starts over
        again.Version();
        Assert.Equal(0x1af4ul, again.Read(Config, 0, 2));
    }

    [Fact]
    public void PostedWrite_IsNotAnswered_AndALaterReadSeesIt()
    {
        using VfioUserTestClient c = _fn.Connect();
        c.Version();
        c.SendRaw(c.Message(VfioUserCommand.RegionWrite, c.WriteBody(Bar, VirtioPci.CommonOffset + VirtioPci.QueueSelect, 2, 1), VfioUserHeader.NoReply));
        Assert.Equal(1ul, c.Read(Bar, VirtioPci.CommonOffset + VirtioPci.QueueSelect, 2)); // the first reply is the read's
    }

    [Fact]
    public void DmaUnmap_TakesTheGuestRangeAwayFromTheDevice()
    {
        using VfioUserTestClient c = _fn.Connect();
        c.Version();
        Assert.False(c.DmaMap(0, 0, RamBytes, VfioUserDmaMap.FlagRead | VfioUserDmaMap.FlagWrite, _ram.Fd).IsError);
        _ram.Bytes[0x100] = 0xA5;
        Span<byte> one = stackalloc byte[1];
        Assert.Equal(DmaError.None, _fn.Guest.Domain.TryRead(0x100, one));
        Assert.Equal(0xA5, one[0]);

        Assert.False(c.DmaUnmap(0, RamBytes).IsError);
        Assert.NotEqual(DmaError.None, _fn.Guest.Domain.TryRead(0x100, one));
        Assert.Empty(_fn.Guest.Mappings);
    }

    [Fact]
    public void ManaVfPlacedByItsPf_OnAnExportedAddress_IsServedWithItsIdsBarAndVectors()
    {
        var pf = new PciAddress(0, 0, 0x1e, 0);
        var vf = new PciAddress(0, 0, 0x1e, 1);
        using var machine = new Machine("guest", _events);
        GuestMemory guest = machine.ExportToGuest(vf);
        Link wire = machine.AddLink(Links.Loopback("mana"));
        machine.Add(new ManaPhysicalFunction(machine, pf, [0x00, 0x15, 0x5d, 0, 0, 1], wire)).EnableVfs(1);
        IDeviceModel model = machine.Devices.Single(d => d.Function.Address == vf);
        Assert.Same(guest.Domain, model.Dma);
        using var server = new VfioUserServer(model, guest, Path.Combine(_dir, "vf.sock"), _events);
        using VfioUserTestClient c = VfioUserTestClient.Connect(server.SocketPath);
        c.Version();

        Assert.Equal((0x1414ul, 0x00baul), (c.Read(Config, 0, 2), c.Read(Config, 2, 2)));
        Assert.Equal(WireError.None, VfioUserRegionInfo.TryRead(c.RegionInfo(0).Body, out VfioUserRegionInfo bar0));
        Assert.Equal(model.Function.Bar(0)!.Size, bar0.Size);
        Assert.Equal(WireError.None, VfioUserIrqInfo.TryRead(c.IrqInfo(Msix).Body, out VfioUserIrqInfo msix));
        Assert.Equal((uint)model.Msix!.Count, msix.Count);
        Assert.Equal(WireError.None, VfioUserIrqInfo.TryRead(c.IrqInfo(IrqForwarder.IndexIntx).Body, out VfioUserIrqInfo intx));
        Assert.Equal(0u, intx.Count); // a VF has no INTx
        Assert.True(model.IsDoorbell(0, ManaRegisters.DoorbellPagesOffset + ManaRegisters.EqDoorbell));
        Assert.False(model.IsDoorbell(0, ManaRegisters.ShmOffset));
    }

    [Fact]
    public void IntxLevel_SignalsOnceUntilUnmaskedThenAgainWhileStillAsserted()
    {
        using VfioUserTestClient c = _fn.Connect();
        using var intx = new EventFd();
        c.Version();
        Assert.False(c.SetIrqs(IrqForwarder.IndexIntx, 0, 1, VfioUserIrqSet.DataEventfd | VfioUserIrqSet.ActionTrigger, intx.Fd).IsError);
        _fn.Device.Intx.Assert(); // as the device does when it has a reason (a used buffer, a config change) and MSI-X is off

        Assert.Equal(1ul, intx.Wait(TimeSpan.FromSeconds(5)));
        _fn.Device.Intx.EndOfInterrupt(); // the line fires again while asserted, but the client has not unmasked
        Assert.Equal(0ul, intx.Take());
        Assert.False(c.SetIrqs(IrqForwarder.IndexIntx, 0, 1, VfioUserIrqSet.DataNone | VfioUserIrqSet.ActionUnmask).IsError);
        Assert.Equal(1ul, intx.Wait(TimeSpan.FromSeconds(5)));
        c.Read(Bar, VirtioPci.IsrOffset, 1); // reading the ISR deasserts
        Assert.False(c.SetIrqs(IrqForwarder.IndexIntx, 0, 1, VfioUserIrqSet.DataNone | VfioUserIrqSet.ActionUnmask).IsError);
        Assert.Equal(0ul, intx.Take());
    }

    private static void BringUpRxQueue(VfioUserTestClient c, ulong desc)
    {
        const ulong common = VirtioPci.CommonOffset;
        c.Write(Bar, common + VirtioPci.DeviceStatus, 1, 0);
        c.Write(Bar, common + VirtioPci.DeviceStatus, 1, VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver);
        c.Write(Bar, common + VirtioPci.DriverFeatureSelect, 4, 1);
        c.Write(Bar, common + VirtioPci.DriverFeature, 4, 1); // VERSION_1 (bit 32)
        c.Write(Bar, common + VirtioPci.DeviceStatus, 1, VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver | VirtioPci.StatusFeaturesOk);
        Assert.NotEqual(0ul, c.Read(Bar, common + VirtioPci.DeviceStatus, 1) & VirtioPci.StatusFeaturesOk);
        c.Write(Bar, common + VirtioPci.QueueSelect, 2, VirtioPci.RxQueue);
        c.Write(Bar, common + VirtioPci.QueueSize, 2, 8);
        c.Write(Bar, common + VirtioPci.QueueMsixVector, 2, 0);
        c.Write(Bar, common + VirtioPci.QueueDesc, 8, desc);
        c.Write(Bar, common + VirtioPci.QueueDriver, 8, Avail);
        c.Write(Bar, common + VirtioPci.QueueDevice, 8, Used);
        c.Write(Bar, common + VirtioPci.QueueEnable, 2, 1);
        c.Write(Bar, common + VirtioPci.DeviceStatus, 1, VirtioPci.StatusAcknowledge | VirtioPci.StatusDriver | VirtioPci.StatusFeaturesOk | VirtioPci.StatusDriverOk);
    }

    /// <summary>One device-writable 2 KiB buffer in descriptor 0, made available, and the RX doorbell rung.</summary>
    private void PostRxBuffer(VfioUserTestClient c)
    {
        Span<byte> ram = _ram.Bytes;
        BinaryPrimitives.WriteUInt64LittleEndian(ram[(int)Desc..], Buffer);
        BinaryPrimitives.WriteUInt32LittleEndian(ram[(int)(Desc + 8)..], 2048);
        BinaryPrimitives.WriteUInt16LittleEndian(ram[(int)(Desc + 12)..], 2); // VIRTQ_DESC_F_WRITE
        BinaryPrimitives.WriteUInt16LittleEndian(ram[(int)(Avail + 4)..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(ram[(int)(Avail + 2)..], 1);
        c.Write(Bar, VirtioPci.NotifyOffset + VirtioPci.RxQueue * VirtioPci.NotifyMultiplier, 2, VirtioPci.RxQueue);
    }
}
