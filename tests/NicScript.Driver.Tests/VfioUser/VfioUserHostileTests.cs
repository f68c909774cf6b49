using System.Buffers.Binary;
using NicScript.Driver.Memory;
using NicScript.Driver.VfioUser;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>Hostile and malformed vfio-user messages: the server refuses each one (an errno reply, or closing that client
/// with a logged reason), the host keeps running, and a client of another function is served throughout.</summary>
public sealed class VfioUserHostileTests : IDisposable
{
    private const uint Config = VfioUserSession.RegionConfig, Msix = IrqForwarder.IndexMsix;
    private const int Einval = 22, Eexist = 17, Enosys = 38;
    private const uint ReadWrite = VfioUserDmaMap.FlagRead | VfioUserDmaMap.FlagWrite;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly string _dir = Directory.CreateTempSubdirectory("vfio-user-").FullName;
    private readonly RecordingEvents _events = new();
    private readonly ExportedFunction _target, _bystander;
    private readonly VfioUserTestClient _other;
    private readonly GuestRam _ram = new(1 << 20);

    public VfioUserHostileTests()
    {
        _target = new ExportedFunction(_dir, 0x1f, _events);
        _bystander = new ExportedFunction(_dir, 0x1e, _events);
        _other = _bystander.Connect();
        _other.Version();
    }

    public void Dispose()
    {
        _other.Dispose();
        _target.Dispose();
        _bystander.Dispose();
        _ram.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The other function's client is still served, and a new client of the target is too (the server did not stop;
    /// a function serves one client at a time, so only once the refused one is gone).</summary>
    private void BothFunctionsStillServe()
    {
        Assert.Equal(0x1af4ul, _other.Read(Config, 0, 2));
        using VfioUserTestClient again = _target.Connect();
        again.Version();
        Assert.Equal(0x1000ul, again.Read(Config, 2, 2));
    }

    /// <summary>The target's server closed the client: the connection ends, and the reason is logged.</summary>
    private string AssertClosed(VfioUserTestClient c)
    {
        Assert.True(c.ClosedByServer());
        string? reason = _events.WaitFor("vfio-user-closed", Patience);
        Assert.NotNull(reason);
        return reason;
    }

    private VfioUserTestClient Versioned()
    {
        VfioUserTestClient c = _target.Connect();
        c.Version();
        return c;
    }

    [Fact]
    public void TruncatedHeader_ClosesTheClientWithTheReason()
    {
        using VfioUserTestClient c = _target.Connect();
        c.SendRaw(new byte[10]);
        c.ShutdownSend();
        Assert.Contains("truncated header", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void SizeLargerThanWhatArrives_ClosesTheClientWithTheReason()
    {
        using VfioUserTestClient c = Versioned();
        byte[] m = c.Message(VfioUserCommand.RegionRead, new byte[VfioUserRegionAccess.Length]);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(4), 200);
        c.SendRaw(m);
        c.ShutdownSend();
        Assert.Contains("stream ended before", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void SizeSmallerThanTheHeader_ClosesTheClient()
    {
        using VfioUserTestClient c = _target.Connect();
        byte[] m = c.Message(VfioUserCommand.Version, VfioUserTestClient.VersionBody("{}"));
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(4), 8);
        c.SendRaw(m);
        Assert.Contains("bad header", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void SizeSmallerThanTheBodySent_ClosesTheClient()
    {
        using VfioUserTestClient c = Versioned();
        byte[] m = c.Message(VfioUserCommand.DmaMap, new byte[VfioUserDmaMap.Length + 8]); // header says 16+40, body is short of a map
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(4), VfioUserHeader.Size + 20);
        c.SendRaw(m);
        Assert.Contains("DmaMap", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void OversizedMessage_ClosesTheClientWithoutReadingIt()
    {
        using VfioUserTestClient c = Versioned();
        byte[] m = c.Message(VfioUserCommand.RegionWrite, []);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(4), uint.MaxValue);
        c.SendRaw(m);
        Assert.Contains("over the", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void UnknownCommand_ClosesTheClient()
    {
        using VfioUserTestClient c = Versioned();
        byte[] m = c.Message(VfioUserCommand.Version, []);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(2), 99);
        c.SendRaw(m);
        Assert.Contains("command 99", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void ReservedFlagBitsOrAReply_CloseTheClient()
    {
        using (VfioUserTestClient c = Versioned())
        {
            c.SendRaw(c.Message(VfioUserCommand.DeviceReset, [], flags: 0x40));
            Assert.Contains("ReservedBitsSet", AssertClosed(c));
        }
        using (VfioUserTestClient c = Versioned())
        {
            c.SendRaw(c.Message(VfioUserCommand.DeviceReset, [], flags: VfioUserHeader.TypeReply));
            Assert.True(c.ClosedByServer());
        }
        BothFunctionsStillServe();
    }

    [Fact]
    public void CommandBeforeVersion_ClosesTheClient()
    {
        using VfioUserTestClient c = _target.Connect();
        c.SendRaw(c.Message(VfioUserCommand.RegionRead, new byte[VfioUserRegionAccess.Length]));
        Assert.Contains("before VERSION", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void VersionWithCapabilitiesThatAreNotJson_ClosesTheClient()
    {
        using VfioUserTestClient c = _target.Connect();
        c.SendRaw(c.Message(VfioUserCommand.Version, VfioUserTestClient.VersionBody("{\"capabilities\":")));
        Assert.Contains("JSON", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void KnownCommandNotOffered_IsRefusedWithEnosys()
    {
        using VfioUserTestClient c = Versioned();
        VfioUserTestClient.Reply r = c.Request(VfioUserCommand.DirtyPages, new byte[8]);
        Assert.Equal((true, (uint)Enosys), (r.IsError, r.Errno));
        Assert.Equal(0x1af4ul, c.Read(Config, 0, 2));
        Assert.Equal(0x1af4ul, _other.Read(Config, 0, 2));
    }

    [Fact]
    public void TooManyFds_ClosesTheClientAndClosesTheFds()
    {
        using VfioUserTestClient c = Versioned();
        var fds = Enumerable.Range(0, UnixMessageSocket.MaxFds).Select(_ => new EventFd()).ToList();
        using var extra = new EventFd();
        var raw = new byte[VfioUserIrqSet.Length];
        new VfioUserIrqSet(VfioUserIrqSet.Length, VfioUserIrqSet.DataEventfd | VfioUserIrqSet.ActionTrigger, Msix, 0, 17).Write(raw);
        byte[] m = c.Message(VfioUserCommand.DeviceSetIrqs, raw);
        // 16 fds in one control message and one more in a second: past what the server announced
        c.SendRaw(m.AsSpan(0, 1), [.. fds.Select(f => f.Fd)]);
        c.SendRaw(m.AsSpan(1), extra.Fd);
        Assert.Contains("fds", AssertClosed(c));
        foreach (EventFd f in fds) f.Dispose();
        BothFunctionsStillServe();
    }

    [Fact]
    public void DmaMapOfAnFdThatIsNotMemory_IsRefused()
    {
        using VfioUserTestClient c = Versioned();
        using var notMemory = new EventFd();
        VfioUserTestClient.Reply r = c.DmaMap(0, 0, 0x10000, ReadWrite, notMemory.Fd);
        Assert.True(r.IsError);
        Assert.Empty(_target.Guest.Mappings);
        Assert.Equal(0x1af4ul, c.Read(Config, 0, 2)); // the client is still served
        Assert.Equal(0x1af4ul, _other.Read(Config, 0, 2));
    }

    [Fact]
    public void DmaMapWithoutAnFd_IsRecordedButUnreachable()
    {
        using VfioUserTestClient c = Versioned();
        Assert.False(c.DmaMap(0, 0xc0000, 0x10000, VfioUserDmaMap.FlagRead).IsError); // what QEMU sends for RAM it cannot share (a ROM)
        Span<byte> b = stackalloc byte[4];
        Assert.NotEqual(DmaError.None, _target.Guest.Domain.TryRead(0xc0000, b));
        Assert.Equal(Eexist, (int)c.DmaMap(0, 0xc8000, 0x1000, ReadWrite, _ram.Fd).Errno); // it still occupies its range
    }

    [Fact]
    public void DmaMapBeyondTheFdsSize_IsRefused()
    {
        using VfioUserTestClient c = Versioned();
        VfioUserTestClient.Reply r = c.DmaMap(0x80000, 0, 0x100000, ReadWrite, _ram.Fd); // 512 KiB + 1 MiB of a 1 MiB memfd
        Assert.Equal((true, (uint)Einval), (r.IsError, r.Errno));
        Assert.Empty(_target.Guest.Mappings);
        Assert.Contains(_events.Faults, f => f.Reason == "vfio-user-refused" && f.Detail.Contains("beyond the fd"));
    }

    [Fact]
    public void DmaMapOfMemoryThatCanShrink_IsRefused()
    {
        using VfioUserTestClient c = Versioned();
        using var unsealed = new GuestRam(1 << 16, @sealed: false);
        VfioUserTestClient.Reply r = c.DmaMap(0, 0, 0x10000, ReadWrite, unsealed.Fd);
        Assert.Equal((true, (uint)Einval), (r.IsError, r.Errno));
        Assert.Contains(_events.Faults, f => f.Reason == "vfio-user-refused" && f.Detail.Contains("sealed"));
        Assert.Empty(_target.Guest.Mappings);
    }

    [Fact]
    public void DmaMapOfMoreThanAClientMayMap_IsRefused()
    {
        using VfioUserTestClient c = Versioned();
        VfioUserTestClient.Reply r = c.DmaMap(0, 0, GuestMemory.MaxMappedBytes + GuestMemory.PageSize, VfioUserDmaMap.FlagRead); // no fd: nothing to map, still counted
        Assert.Equal((true, 28u), (r.IsError, r.Errno)); // ENOSPC
        Assert.Empty(_target.Guest.Mappings);
    }

    [Fact]
    public void DmaMapOverlappingAnother_IsRefusedWithEexist()
    {
        using VfioUserTestClient c = Versioned();
        Assert.False(c.DmaMap(0, 0x100000, 0x10000, ReadWrite, _ram.Fd).IsError);
        VfioUserTestClient.Reply r = c.DmaMap(0x10000, 0x108000, 0x10000, ReadWrite, _ram.Fd);
        Assert.Equal((true, (uint)Eexist), (r.IsError, r.Errno));
        Assert.Single(_target.Guest.Mappings);
    }

    [Fact]
    public void DmaMapUnalignedOrWithTwoFds_IsRefused()
    {
        using VfioUserTestClient c = Versioned();
        Assert.Equal(Einval, (int)c.DmaMap(0, 0x1001, 0x1000, ReadWrite, _ram.Fd).Errno);
        Assert.Equal(Einval, (int)c.DmaMap(0, 0x1000, 0x1000, ReadWrite, _ram.Fd, _ram.Fd).Errno);
        Assert.Empty(_target.Guest.Mappings);
    }

    [Fact]
    public void DmaMapReadOnly_DeviceWritesFaultAndReadsWork()
    {
        using VfioUserTestClient c = Versioned();
        Assert.False(c.DmaMap(0, 0, 0x10000, VfioUserDmaMap.FlagRead, _ram.Fd).IsError);
        Span<byte> b = stackalloc byte[4];
        Assert.Equal(DmaError.None, _target.Guest.Domain.TryRead(0x40, b));
        Assert.Equal(DmaError.IommuFault, _target.Guest.Domain.TryWrite(0x40, b));
    }

    [Fact]
    public void DmaUnmapThatCutsAMapping_IsRefusedAndChangesNothing()
    {
        using VfioUserTestClient c = Versioned();
        Assert.False(c.DmaMap(0, 0, 0x10000, ReadWrite, _ram.Fd).IsError);
        Assert.Equal(Einval, (int)c.DmaUnmap(0x1000, 0x1000).Errno);
        Assert.Single(_target.Guest.Mappings);
    }

    [Theory]
    [InlineData(Config, 4090u, 8u)]        // runs past the end of configuration space
    [InlineData(4u, 0x4000u, 4u)]          // starts at the end of BAR 4
    [InlineData(4u, 0u, 3u)]               // not a register width
    [InlineData(2u, 0u, 4u)]               // a BAR the function does not have
    [InlineData(6u, 0u, 4u)]               // no expansion ROM
    [InlineData(12u, 0u, 4u)]              // no such region
    [InlineData(Config, 0u, 0u)]           // nothing to read
    public void RegionReadOutOfRangeOrOfNoRegion_IsRefusedWithEinval(uint region, ulong offset, uint count)
    {
        using VfioUserTestClient c = Versioned();
        VfioUserTestClient.Reply r = c.RegionRead(region, offset, count);
        Assert.Equal((true, (uint)Einval), (r.IsError, r.Errno));
        Assert.Equal(0x1af4ul, c.Read(Config, 0, 2));
        Assert.Equal(0x1af4ul, _other.Read(Config, 0, 2));
    }

    [Fact]
    public void RegionWriteWhoseDataDoesNotMatchItsCount_ClosesTheClient()
    {
        using VfioUserTestClient c = Versioned();
        byte[] body = c.WriteBody(4, 0, 4, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(12), 8); // says 8 bytes, carries 4
        c.SendRaw(c.Message(VfioUserCommand.RegionWrite, body));
        Assert.Contains("RegionWrite", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void SetIrqsWithWrongCounts_IsRefusedWithEinval()
    {
        using VfioUserTestClient c = Versioned();
        using var a = new EventFd();
        using var b = new EventFd();
        uint trigger = VfioUserIrqSet.DataEventfd | VfioUserIrqSet.ActionTrigger;
        int vectors = _target.Device.Msix.Count;
        Assert.Equal(Einval, (int)c.SetIrqs(Msix, 0, 2, trigger, a.Fd).Errno);                        // 1 fd for 2 vectors
        Assert.Equal(Einval, (int)c.SetIrqs(Msix, (uint)vectors - 1, 2, trigger, a.Fd, b.Fd).Errno); // past the last vector
        Assert.Equal(Einval, (int)c.SetIrqs(Msix, 0, 1, trigger, _ram.Fd).Errno);                    // not an eventfd
        Assert.Equal(Einval, (int)c.SetIrqs(7, 0, 1, trigger, a.Fd).Errno);                          // no such index
        Assert.Equal(Einval, (int)c.SetIrqs(IrqForwarder.IndexMsi, 0, 1, trigger, a.Fd).Errno);      // no MSI
        Assert.False(c.SetIrqs(Msix, 0, 2, trigger, a.Fd, b.Fd).IsError);                             // and the right one works
    }

    [Fact]
    public void SetIrqsWithTwoActions_ClosesTheClient()
    {
        using VfioUserTestClient c = Versioned();
        var raw = new byte[VfioUserIrqSet.Length];
        new VfioUserIrqSet(VfioUserIrqSet.Length, VfioUserIrqSet.DataNone | VfioUserIrqSet.ActionMask | VfioUserIrqSet.ActionTrigger, 0, 0, 1).Write(raw);
        c.SendRaw(c.Message(VfioUserCommand.DeviceSetIrqs, raw));
        Assert.Contains("UnknownEnumValue", AssertClosed(c));
        BothFunctionsStillServe();
    }

    [Fact]
    public void RandomBytes_NeverStopTheServer()
    {
        var rng = new Random(4242); // fixed seed: a failure reproduces
        for (int i = 0; i < 40; i++)
        {
            using VfioUserTestClient c = _target.Connect();
            if (i % 2 == 0) c.Version();
            var junk = new byte[rng.Next(1, 200)];
            rng.NextBytes(junk);
            if (junk.Length >= 8) BinaryPrimitives.WriteUInt32LittleEndian(junk.AsSpan(4), (uint)rng.Next(0, 300));
            c.SendRaw(junk);
            c.ShutdownSend();
            while (c.ReadReply() is not null)
            {
                // error replies to what happened to parse; the server closes the rest
            }
        }
        BothFunctionsStillServe();
    }
}
