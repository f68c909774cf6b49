using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;

namespace NicScript.Host.Tests.Manifests;

public sealed class MachineFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Example_TwoNicsOnACable_BuildsAndCarriesFrames()
    {
        MachineSpec spec = MachineFileParser.Load(Path.Combine(Repo.Root, "manifests/machines/two-nics.yml"));
        Assert.Equal(2, spec.Devices.Length);
        var (machine, owned) = MachineFactory.Build(spec, null, null, null, NoDeviceEvents.Instance);
        using (machine)
        {
            Assert.Equal(2, machine.Devices.OfType<VirtioNetDevice>().Count());
            Assert.Same(machine.Devices.OfType<VirtioNetDevice>().First().Port!.Link, machine.Devices.OfType<VirtioNetDevice>().ElementAt(1).Port!.Link);
            Assert.NotNull(machine.Links[0].Faults);
            Assert.True(machine.Interrupts.ContainsKey(10) && machine.Interrupts.ContainsKey(11));
        }
        Assert.Empty(owned);
    }

    [Fact]
    public void UnknownWireInDevice_IsRefusedAtItsLine()
    {
        string path = _dir.Write("m.yml", "machine: { name: m }\nwires:\n  - { name: w, type: loopback }\ndevices:\n  - { type: virtio-net, address: \"00:1f.0\", irq: 11, wire: nope }\n");
        var e = Assert.Throws<ManifestException>(() => MachineFileParser.Load(path));
        Assert.Contains("wire 'nope' is not defined", e.Message);
        Assert.Equal(5, e.Problems[0].At.Line);
    }

    [Theory]
    [InlineData("  - { name: w, type: coax }\n", "wire type 'coax'")]
    [InlineData("  - { name: w, type: tap }\n", "a tap wire needs ifname")]
    [InlineData("  - { name: w, type: loopback, faults: { drop: 2 } }\n", "faults.drop must be in [0, 1]")]
    public void BadWire_IsRefused(string wire, string fragment)
    {
        string path = _dir.Write("m.yml", "machine: { name: m }\nwires:\n" + wire + "devices: []\n");
        Assert.Contains(fragment, Assert.Throws<ManifestException>(() => MachineFileParser.Load(path)).Message);
    }

    [Theory]
    [InlineData("drop=0.05,seed=7", 0.05, 7)]
    [InlineData("reorder=0.1", 0, 1)]
    public void FaultsOption_Parses(string text, double drop, int seed)
    {
        var f = MachineFileParser.ParseFaults(text);
        Assert.Equal((drop, seed), (f.Drop, f.Seed));
    }

    [Theory]
    [InlineData("drop=2", "drop must be in [0, 1]")]
    [InlineData("jitter=1", "unknown fault 'jitter'")]
    [InlineData("drop", "is not name=number")]
    public void FaultsOption_Bad_IsAUserError(string text, string fragment) =>
        Assert.Contains(fragment, Assert.Throws<UserErrorException>(() => MachineFileParser.ParseFaults(text)).Message);

    [Fact]
    public void WireOption_Unknown_IsAUserError() =>
        Assert.Contains("not a wire", Assert.Throws<UserErrorException>(() => MachineFactory.Build(null, "coax", null, null, NoDeviceEvents.Instance)).Message);

    /// <summary>ND-02 at the machine-file level: a netdevice NIC that breaks a rule is refused at its block, naming the field and the rule.</summary>
    [Theory]
    [InlineData("buffer_alignment: 0", "netdevice.buffer_alignment: must be at least 1")]
    [InlineData("rx_threshold: 17", "netdevice.rx_threshold: must be 0..rx_depth (16)")]
    [InlineData("tx_depth: 2049", "netdevice.tx_depth: must be 1..2048")]
    [InlineData("max_buffer_parts: 5", "netdevice.max_buffer_parts: must be 1..4")]
    [InlineData("tx_accel: [COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS, COMPUTE_ETHERNET_FCS]", "netdevice.tx_accel: at most 16 entries")]
    [InlineData("rx_accel: [FASTER]", "'FASTER' is not a RxAcceleration")]
    public void ND_02_BadNetDeviceNic_IsRefusedNamingTheFieldAndTheRule(string line, string fragment)
    {
        string path = _dir.Write("m.yml", "machine: { name: m }\nwires:\n  - { name: w, type: loopback }\ndevices:\n" +
            "  - type: virtio-net\n    address: \"00:1f.0\"\n    irq: 11\n    wire: w\n    netdevice:\n      rx_depth: 16\n      " + line + "\n");
        var e = Assert.Throws<ManifestException>(() => MachineFileParser.Load(path));
        ManifestProblem problem = Assert.Single(e.Problems);
        Assert.Contains(fragment, problem.Message);
        Assert.True(problem.At.Line >= 9, problem.At.ToString());
        Assert.DoesNotContain("\n", problem.Message);
    }

    [Fact]
    public void TheFixtureMachine_GivesItsNetDeviceThePortsOfTheFile()
    {
        MachineSpec spec = MachineFileParser.Load(Path.Combine(Repo.Root, "manifests/machines/netdevice-fixture.yml"));
        var (machine, _) = MachineFactory.Build(spec, null, null, null, NoDeviceEvents.Instance);
        using (machine)
        {
            var dev = machine.NetDevices.Get(spec.Devices[0].Address);
            Assert.Equal((32, 32), ((int)dev.GetInfo().RxDepth, (int)dev.GetInfo().TxDepth));
            Assert.Equal("02:00:00:00:00:0d", dev.GetPort(13).GetMac().GetUnicastAddress());
            Assert.Equal("ZX_ERR_NOT_FOUND", dev.GetPort(0).Epitaph);
        }
    }

    [Fact]
    public void ManaDevice_IsAcceptedAndPlacesAPfWithItsVf()
    {
        string path = _dir.Write("m.yml", "machine: { name: m }\nwires:\n  - { name: w, type: loopback }\ndevices:\n  - { type: mana, address: \"00:1d.0\", mac: \"00:15:5d:00:00:07\", wire: w }\n");
        MachineSpec spec = MachineFileParser.Load(path);
        DeviceSpec d = Assert.Single(spec.Devices);
        Assert.Equal(("mana", (int?)null), (d.Type, d.Irq));
        var (machine, owned) = MachineFactory.Build(spec, null, null, null, NoDeviceEvents.Instance);
        using (machine)
        {
            Assert.Empty(machine.Devices.OfType<VirtioNetDevice>()); // a file's machine holds what the file places, no more
            var vf = Assert.Single(machine.Devices.OfType<ManaDevice>());
            Assert.Equal("00:1d.1", vf.Function.Address.Short);
            Assert.Same(machine.Links[0], vf.Port!.Link);
            Assert.Equal([0x00, 0x15, 0x5d, 0x00, 0x00, 0x07], vf.Mac);
        }
        Assert.Empty(owned);
    }

    [Fact]
    public void UnknownDeviceType_IsOneErrorAtItsPlaceListingTheKnownTypes()
    {
        string path = _dir.Write("m.yml", "machine: { name: m }\nwires:\n  - { name: w, type: loopback }\ndevices:\n  - { type: e1000, address: \"00:1f.0\", irq: 11, wire: w }\n");
        var e = Assert.Throws<ManifestException>(() => MachineFileParser.Load(path));
        ManifestProblem p = Assert.Single(e.Problems);
        Assert.Equal((5, 13), (p.At.Line, p.At.Column));
        Assert.Equal("device type 'e1000' is not known (expected virtio-net, mana)", p.Message);
    }

    [Fact]
    public void ManaDevice_WithAnIrq_IsRefusedAsAKeyItDoesNotTake()
    {
        string path = _dir.Write("m.yml", "machine: { name: m }\nwires:\n  - { name: w, type: loopback }\ndevices:\n  - { type: mana, address: \"00:1d.0\", irq: 11, wire: w }\n");
        var e = Assert.Throws<ManifestException>(() => MachineFileParser.Load(path));
        Assert.Contains("unknown key 'irq' in a device (expected one of: type, address, mac, wire, vfio-user)", Assert.Single(e.Problems).Message);
    }

    [Fact]
    public void ManaDevice_WhoseVfAddressIsAnotherDevices_IsRefusedAtItsAddress()
    {
        string path = _dir.Write("m.yml", "machine: { name: m }\nwires:\n  - { name: w, type: pair }\ndevices:\n  - { type: virtio-net, address: \"00:1e.1\", irq: 11, wire: w }\n  - { type: mana, address: \"00:1e.0\", wire: w }\n");
        var e = Assert.Throws<ManifestException>(() => MachineFileParser.Load(path));
        ManifestProblem p = Assert.Single(e.Problems);
        Assert.Equal(6, p.At.Line);
        Assert.Equal("PCI address 0000:00:1e.1 is taken", p.Message);
    }
}
