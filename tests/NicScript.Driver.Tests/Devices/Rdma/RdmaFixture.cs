using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using System.Net;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Rdma;

/// <summary>F0 (one host, a loopback QP) and F1 (hosts A and B on a wire, connected QPs) of reference/rdma.md §5.</summary>
public sealed class RdmaFixture : IDisposable
{
    public static readonly IPAddress IpA = IPAddress.Parse("192.0.2.1"), IpB = IPAddress.Parse("192.0.2.2");
    public const string GidA = "::ffff:192.0.2.1", GidB = "::ffff:192.0.2.2";

    public Machine Machine { get; }
    public Link Wire { get; }
    public List<byte[]> Captured { get; } = new();
    public RdmaDevice A { get; }
    public RdmaDevice B { get; }
    public Side SA { get; }
    public Side SB { get; }

    /// <param name="nic"><c>virtio</c>: hosts A and B are virtio-net functions; <c>mana</c>: MANA VFs (of PFs at 00:1f.0 and 00:1e.0).</param>
    public RdmaFixture(string wire = "switch", string nic = "virtio")
    {
        Machine = new Machine("rdma-test");
        Wire = Machine.AddLink(wire == "pair" ? Links.Pair("ab") : Links.Switch("ab", 4));
        Wire.Capture(new CaptureList(Captured));
        INicModel fa = Nic(nic, new PciAddress(0, 0, 0x1f, 0), 11, [0x52, 0x54, 0, 0, 0, 0xA]);
        INicModel fb = Nic(nic, new PciAddress(0, 0, 0x1e, 0), 10, [0x52, 0x54, 0, 0, 0, 0xB]);
        A = Machine.Rdma.Attach(fa, IpA);
        B = Machine.Rdma.Attach(fb, IpB);
        SA = NewSide(A, "SA");
        SB = NewSide(B, "SB");
    }

    private INicModel Nic(string kind, PciAddress address, int line, byte[] mac)
    {
        if (kind == "virtio") return Machine.Add(new VirtioNetDevice(address, Machine.Domain(address), Machine.Line(line), mac, Machine.Events), Wire);
        Machine.Add(new ManaPhysicalFunction(Machine, address, mac, Wire)).EnableVfs(1);
        return Machine.Devices.OfType<ManaDevice>().Single(d => d.Mac == mac);
    }

    public Side NewSide(RdmaDevice device, string name)
    {
        DmaOwner owner = Machine.Dma.CreateOwner(name, 1L << 26);
        return new Side(new RdmaContext(device, owner, name), Machine.Dma, owner);
    }

    /// <summary>RoCE frames seen on the wire (what a pcap would hold).</summary>
    public List<byte[]> Roce => Captured.Where(f => RoceV2.Parse(f, out _) is not null).ToList();

    public static byte Opcode(byte[] f) => f[RoceV2.BthAt];
    public static uint Psn(byte[] f) => BinaryPrimitives.ReadUInt32BigEndian(f.AsSpan(RoceV2.BthAt + 8)) & 0xFFFFFF;
    public static byte Syndrome(byte[] f) => f[RoceV2.BthAt + RoceV2.Bth];

    public void Run() => Machine.Rdma.Progress();

    public void Dispose() => Machine.Dispose();

    private sealed class CaptureList(List<byte[]> into) : ICaptureSink
    {
        public void Write(ReadOnlySpan<byte> frame)
        {
            lock (into) into.Add(frame.ToArray());
        }
    }
}
