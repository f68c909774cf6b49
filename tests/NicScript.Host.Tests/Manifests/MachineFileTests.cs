using NicScript.Driver.Devices;
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
            Assert.Equal(2, machine.VirtioNets.Count);
            Assert.Same(machine.VirtioNets[0].Port!.Link, machine.VirtioNets[1].Port!.Link);
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
    [InlineData("drop=2", "drop rate must be in [0, 1]")]
    [InlineData("jitter=1", "unknown fault 'jitter'")]
    [InlineData("drop", "is not name=number")]
    public void FaultsOption_Bad_IsAUserError(string text, string fragment) =>
        Assert.Contains(fragment, Assert.Throws<UserErrorException>(() => MachineFileParser.ParseFaults(text)).Message);

    [Fact]
    public void WireOption_Unknown_IsAUserError() =>
        Assert.Contains("not a wire", Assert.Throws<UserErrorException>(() => MachineFactory.Build(null, "coax", null, null, NoDeviceEvents.Instance)).Message);
}
