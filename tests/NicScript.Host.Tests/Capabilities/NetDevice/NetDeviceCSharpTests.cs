using Spectre.Console;

namespace NicScript.Host.Tests.Capabilities.NetDevice;

/// <summary>The same objects from C#: PascalCase members, deconstruction, ZxException with the status name, awaited epitaphs.</summary>
public sealed class NetDeviceCSharpTests
{
    private const string Grants = "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC\n  - CAP_LOG_WRITE";

    [Fact]
    public void A_CSharp_script_opens_a_session_sends_on_the_wire_and_catches_a_ZxException()
    {
        const string script = """
            using NicScript.Driver.NetDevice;
            var dev = Net.Device("00:1f.0");
            var info = dev.GetInfo();
            var descs = Dma.Alloc(64 * info.MinDescriptorLength * 8);
            var data = Dma.Alloc(64 * 2048);
            var (session, fifos) = dev.OpenSession("cs", new SessionInfo { Descriptors = descs, Data = data, DescriptorVersion = 1,
                DescriptorLength = info.MinDescriptorLength, DescriptorCount = 64, Options = SessionFlags.PRIMARY });
            session.Attach(0, new[] { FrameType.ETHERNET });
            var table = Net.DescriptorTable(descs, info.MinDescriptorLength);
            table.Set(1, new BufferDescriptor { Offset = 2048, DataLength = 2048 });
            fifos.Rx.Write(new ushort[] { 1 });
            var frame = new byte[60];
            for (int i = 0; i < 6; i++) frame[i] = frame[6 + i] = new byte[] { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }[i];
            data.Write(0, frame);
            table.Set(0, new BufferDescriptor { FrameType = (byte)FrameType.ETHERNET, PortId = 0, DataLength = 60 });
            fifos.Tx.Write(new ushort[] { 0 });
            if (!await fifos.Rx.WaitReadableAsync(1000)) throw new InvalidOperationException("nothing came back");
            var got = fifos.Rx.Read(8);
            string result = $"rx {got.Length} of {table.Get(got[0]).DataLength} bytes, tx flags {table.Get(fifos.Tx.Read(8)[0]).ReturnFlags}";
            try { session.Attach(0, new[] { FrameType.ETHERNET }); }
            catch (ZxException e) { result += $", attach again {e.StatusName} {e.Code}"; }
            session.Close();
            return result + ", epitaph " + await session.WaitClosedAsync(1000);
            """;
        var report = ScriptRun.Single("nd.csx", script, Grants, memMb: 64);
        Assert.True(report.Status == NicScript.Host.Runtime.VNodeStatus.Completed, report.Error);
        Assert.Equal("rx 1 of 60 bytes, tx flags 0, attach again ZX_ERR_ALREADY_BOUND -27, epitaph ZX_ERR_CANCELED", report.Result);
    }

    [Fact]
    public void A_function_the_manifest_does_not_grant_is_denied_and_an_unknown_one_is_NOT_FOUND()
    {
        var denied = ScriptRun.Single("nd.js", "net.device(\"00:1e.1\");", Grants);
        Assert.Equal(NicScript.Host.Runtime.VNodeStatus.Failed, denied.Status);
        Assert.Contains("CAP_HARDWARE_IO_PCI", denied.Error);
        var missing = ScriptRun.Single("nd.js", "try { net.device(\"00:1f.0\"); } catch (e) { throw new Error(e.status); }",
            "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"");
        Assert.Equal(NicScript.Host.Runtime.VNodeStatus.Completed, missing.Status);
        var unknown = ScriptRun.Single("nd.js", "try { net.device(\"00:03.0\"); } catch (e) { vnode.fail(e.status + ' ' + e.code); }",
            "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:03.0\"");
        Assert.Contains("ZX_ERR_NOT_FOUND -25", unknown.Error);
    }

    [Fact]
    public void A_function_used_as_a_netdevice_cannot_also_be_driven_by_the_script()
    {
        var report = ScriptRun.Single("nd.js", "net.device(\"00:1f.0\"); net.open(\"00:1f.0\");", Grants);
        Assert.Equal(NicScript.Host.Runtime.VNodeStatus.Failed, report.Status);
        Assert.Contains("in use as a netdevice", report.Error);
    }
}
