using NicScript.Driver.Devices.Virtio;
using System.Text.Json;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Host.Capabilities;

namespace NicScript.Host.Tests.Capabilities;

/// <summary>
/// Issue 17 class B, end to end through the handles a script gets: a V-Node granted only its NIC and CAP_DMA_ALLOC brings
/// the virtio-net at 00:1f.0 up by hand (as scripts/virtio-bringup.js does) and points its descriptors at another V-Node's
/// buffer. The device must not read or write it: the request faults, the device counts it, the audit log has it.
/// </summary>
public sealed class DmaDomainTests
{
    private const string AttackerCaps = "  - NetworkAccess\n  - CAP_HARDWARE_IO_PCI: \"00:1f.0\"\n  - CAP_DMA_ALLOC";

    /// <summary>The attacker's driver, register by register: two queues of 8 in its own DMA memory, DRIVER_OK.</summary>
    private sealed class ByHand
    {
        private readonly PciDevice _dev;
        private readonly int _bar, _common, _notify, _mult;
        public readonly DmaBuffer[] Rings = new DmaBuffer[2];
        private readonly int[] _notifyAt = new int[2];
        private readonly ushort[] _avail = new ushort[2];

        public ByHand(VNodeHandles h, Func<int, ulong?>? ringAt = null)
        {
            _dev = h.Pci.Open("00:1f.0");
            _dev.WriteConfig16(0x04, _dev.ReadConfig16(0x04) | 0x6);
            foreach (int at in _dev.Capabilities(0x09))
            {
                int type = _dev.ReadConfig8(at + 3);
                if (type == 1) (_bar, _common) = (_dev.ReadConfig8(at + 4), (int)_dev.ReadConfig32(at + 8));
                if (type == 2) (_notify, _mult) = ((int)_dev.ReadConfig32(at + 8), (int)_dev.ReadConfig32(at + 16));
            }
            Wr(0x14, 1, 0); Wr(0x14, 1, 1); Wr(0x14, 1, 3);
            Wr(0x08, 4, 1); Wr(0x0c, 4, 1);                        // VIRTIO_F_VERSION_1 only
            Wr(0x14, 1, 11);
            for (int q = 0; q < 2; q++)
            {
                Wr(0x16, 2, (ulong)q);
                Wr(0x18, 2, 8);
                Rings[q] = h.Dma.Alloc(4096);
                ulong ring = ringAt?.Invoke(q) ?? (ulong)Rings[q].Iova;
                Wr(0x20, 8, ring); Wr(0x28, 8, ring + 128); Wr(0x30, 8, ring + 152);
                Wr(0x1c, 2, 1);
                _notifyAt[q] = _notify + (int)Rd(0x1e, 2) * _mult;
            }
            Wr(0x14, 1, 15);                                        // DRIVER_OK
        }

        public byte Status => (byte)Rd(0x14, 1);

        private ulong Rd(int off, int size) => (ulong)_dev.ReadBar(_bar, _common + off, size);

        private void Wr(int off, int size, ulong v) => _dev.WriteBar(_bar, _common + off, size, v);

        /// <summary>Makes one descriptor available on queue <paramref name="q"/> (0 RX, 1 TX) and rings the doorbell.</summary>
        public void Post(int q, ulong addr, int len, bool writable, bool doorbell = true)
        {
            DmaBuffer ring = Rings[q];
            int slot = _avail[q] % 8;
            ring.WriteU64(slot * 16, addr); ring.WriteU32(slot * 16 + 8, len); ring.WriteU16(slot * 16 + 12, writable ? 2 : 0); ring.WriteU16(slot * 16 + 14, 0);
            ring.WriteU16(128 + 4 + 2 * slot, slot);
            ring.WriteU16(128 + 2, ++_avail[q]);
            if (doorbell) Doorbell(q);
        }

        public void Doorbell(int q) => _dev.WriteBar(_bar, _notifyAt[q], 2, q);
    }

    private static byte[] Frame()
    {
        var f = new byte[12 + 60];
        byte[] eth = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5];
        eth.CopyTo(f, 12);
        return f;
    }

    private static (TestVNode Attacker, DmaBuffer Secret, VNodeContext Victim) TwoVNodes(string? audit = null)
    {
        var v = TestVNode.Create("attacker", AttackerCaps, audit);
        VNodeContext victim = v.AdmitPeer("victim", "  - CAP_DMA_ALLOC\n  - CAP_MEM_SHARE");
        DmaBuffer secret = v.Broker.Handles(victim).Dma.Alloc(4096);
        secret.Fill(0x5E);
        return (v, secret, victim);
    }

    private static bool Intact(DmaBuffer secret) => secret.Read(0, secret.Length).All(b => b == 0x5E);

    [Fact]
    public void TxDescriptorAtAnotherVNodesIova_SendsNothing_FaultsTheDevice_AndIsAudited()
    {
        using var dir = new TempDir();
        string auditFile = dir.File("audit.jsonl");
        var (v, secret, _) = TwoVNodes(auditFile);
        using (v)
        {
            var nic = new ByHand(v.Handles);
            VirtioNetDevice device = v.Machine.Devices.OfType<VirtioNetDevice>().First();
            nic.Post(1, (ulong)secret.Iova, 12 + 60, writable: false);

            Assert.Equal(0, device.Stats.TxPacketsCount);              // nothing of the victim left on the wire
            Assert.Equal(0, device.Stats.TxBytesCount);
            Assert.Equal(0, device.Stats.RxPacketsCount);              // (the loopback would have brought it back)
            Assert.NotEqual(0, nic.Status & VirtioPci.StatusDeviceNeedsReset); // virtio 1.x §2.1.1
            Assert.Equal(1, device.Stats.DmaFaultsCount);
            Assert.True(Intact(secret));
            var (vnode, fault) = Assert.Single(v.Audit.DmaFaults);
            Assert.Equal(("attacker", "0000:00:1f.0", (ulong)secret.Iova, 72, false, DmaError.IommuFault),
                (vnode, fault.Function, fault.Iova, fault.Length, fault.Write, fault.Reason));
        }
        string line = File.ReadAllLines(auditFile).Single();
        using JsonDocument doc = JsonDocument.Parse(line);
        JsonElement e = doc.RootElement;
        Assert.Equal(("dma_fault", "attacker", "0000:00:1f.0", "read", 72), (e.GetProperty("event").GetString(), e.GetProperty("vnode").GetString(),
            e.GetProperty("function").GetString(), e.GetProperty("access").GetString(), e.GetProperty("length").GetInt32()));
    }

    [Fact]
    public void RxDescriptorAtAnotherVNodesIova_LeavesItUntouched_AndFaults()
    {
        var (v, secret, _) = TwoVNodes();
        using (v)
        {
            var nic = new ByHand(v.Handles);
            VirtioNetDevice device = v.Machine.Devices.OfType<VirtioNetDevice>().First();
            nic.Post(0, (ulong)secret.Iova, 2048, writable: true);     // the victim's buffer as a receive buffer
            DmaBuffer tx = v.Handles.Dma.Alloc(2048);
            tx.Write(0, Frame());
            nic.Post(1, (ulong)tx.Iova, 72, writable: false);          // a legal frame: loopback brings it to the RX queue

            Assert.Equal(1, device.Stats.TxPacketsCount);
            Assert.Equal(0, device.Stats.RxPacketsCount);
            Assert.True(Intact(secret));
            Assert.NotEqual(0, nic.Status & VirtioPci.StatusDeviceNeedsReset);
            var (vnode, fault) = Assert.Single(v.Audit.DmaFaults);
            Assert.Equal(("attacker", (ulong)secret.Iova, true), (vnode, fault.Iova, fault.Write));
        }
    }

    [Fact]
    public void RingsProgrammedAtAnotherVNodesIova_RefuseDriverOk_AndTouchNothing()
    {
        var (v, secret, _) = TwoVNodes();
        using (v)
        {
            var nic = new ByHand(v.Handles, ringAt: q => q == 1 ? (ulong)secret.Iova : null);
            Assert.NotEqual(0, nic.Status & VirtioPci.StatusDeviceNeedsReset);
            Assert.Equal(0, nic.Status & VirtioPci.StatusDriverOk);
            Assert.True(Intact(secret));
            Assert.Contains("RingOutsideDma", v.Machine.Devices.OfType<VirtioNetDevice>().First().ResetReason);
            Assert.NotEmpty(v.Audit.DmaFaults);
        }
    }

    [Fact]
    public void ABufferLentToTheAttacker_MayBeSent_ButNotReceivedInto()
    {
        var (v, secret, victim) = TwoVNodes();
        using (v)
        {
            secret.Write(0, Frame());                                  // the victim's own frame, lent read-only
            v.Broker.Handles(victim).Share.Lend(secret, "attacker");
            var nic = new ByHand(v.Handles);
            VirtioNetDevice device = v.Machine.Devices.OfType<VirtioNetDevice>().First();
            nic.Post(1, (ulong)secret.Iova, 72, writable: false);
            Assert.Equal(1, device.Stats.TxPacketsCount);              // reading a loan is allowed
            Assert.Equal(0, device.Stats.DmaFaultsCount);
            nic.Post(0, (ulong)secret.Iova, 2048, writable: true);
            DmaBuffer tx = v.Handles.Dma.Alloc(2048);
            tx.Write(0, Frame());
            nic.Post(1, (ulong)tx.Iova, 72, writable: false);
            Assert.Equal(1, device.Stats.DmaFaultsCount);              // writing it is not
            Assert.NotEqual(0, nic.Status & VirtioPci.StatusDeviceNeedsReset);
            Assert.Equal(Frame(), secret.Read(0, 72));
        }
    }

    [Fact]
    public void AStoppedVNode_LeavesEveryDomain_AndItsOwnMemoryFaultsAfterwards()
    {
        var (v, _, _) = TwoVNodes();
        using (v)
        {
            var nic = new ByHand(v.Handles);
            DmaBuffer tx = v.Handles.Dma.Alloc(2048);
            tx.Write(0, Frame());
            nic.Post(1, (ulong)tx.Iova, 72, writable: false, doorbell: false);
            VirtioNetDevice device = v.Machine.Devices.OfType<VirtioNetDevice>().First();
            Assert.Contains(v.Context.DmaOwner, device.Dma.Attached);
            v.Broker.Release(v.Context);
            Assert.Empty(device.Dma.Attached);
            nic.Doorbell(1);                                           // after the stop: neither ring nor frame is reachable
            Assert.Equal(0, device.Stats.TxPacketsCount);
            Assert.Equal(1, device.Stats.DmaFaultsCount);
            Assert.NotEqual(0, device.Status & VirtioPci.StatusDeviceNeedsReset);
        }
    }

    [Fact]
    public void NetOpen_DriverUp_AttachesOnce_AndDownDetaches()
    {
        using var v = TestVNode.Create("drv", AttackerCaps);
        VirtioNetHandle nic = v.Handles.Net.Open("00:1f.0").Up();
        VirtioNetDevice device = v.Machine.Devices.OfType<VirtioNetDevice>().First();
        Assert.Single(device.Dma.Attached);
        nic.Down();
        Assert.Single(device.Dma.Attached); // the open itself keeps the V-Node attached until it stops
        v.Broker.Release(v.Context);
        Assert.Empty(device.Dma.Attached);
    }
}
