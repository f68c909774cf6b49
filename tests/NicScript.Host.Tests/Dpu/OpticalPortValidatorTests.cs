using NicScript.Driver.Devices.Dpu;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Tests.Dpu;

/// <summary>The OpticalPort service's rules on their own: ports, MTUs and the bond's options, no agent, no gRPC.</summary>
public sealed class OpticalPortValidatorTests
{
    private static readonly DpuConfig Config = new() { OpticalPorts = 3 };
    private readonly OpticalPortValidator _v = new(Config);

    private static EthMacBondSetRequest Bond(params (string Name, string Value)[] options)
    {
        var r = new EthMacBondSetRequest { Enable = true };
        r.BondOpts.AddRange(options.Select(o => new BondOpts { OptName = o.Name, Value = o.Value }));
        return r;
    }

    [Fact]
    public void CheckOptical_PortBeyondMachine_IsNotFound() =>
        Assert.Equal(new DpuOutcome(DpuStatus.NotFound, "optical port 3 does not exist (3 ports)"), _v.CheckOptical(true, 3));

    [Fact]
    public void EthMacSetMtu_BondedPort_SetsEveryMember()
    {
        DpuState s = _v.EthMacBondSet(Bond(("members", "0,2")), DpuState.Empty(Config)).Next!;
        DpuChange c = _v.EthMacSetMtu(new EthMacSetMtuRequest { PortId = 2, Mtu = 9000 }, s);
        Assert.Equal(new uint[] { 9000, 1500, 9000 }, c.Next!.OpticalMtu.ToArray());
        Assert.Equal(new long[] { 0, 2 }, c.Rows!.Select(r => r.Key).ToArray());
    }

    [Fact]
    public void EthMacBondSet_Mode802_3ad_IsUnsupported() =>
        Assert.Equal(new DpuOutcome(DpuStatus.Unsupported, "mode 802.3ad is not emulated"), _v.EthMacBondSet(Bond(("mode", "802.3ad")), DpuState.Empty(Config)).Outcome);

    [Fact]
    public void EffectiveBond_LinuxOnlyOption_IsUnsupported()
    {
        Assert.Null(OpticalPortValidator.EffectiveBond(3, [new BondOpts { OptName = "arp_interval", Value = "100" }], out DpuOutcome refusal));
        Assert.Equal(new DpuOutcome(DpuStatus.Unsupported, "option arp_interval is not emulated"), refusal);
    }

    [Fact]
    public void EffectiveBond_Delays_AreRoundedDownToMiimon()
    {
        var (options, members) = OpticalPortValidator.EffectiveBond(3, [new BondOpts { OptName = "updelay", Value = "250" }], out _)!.Value;
        Assert.Equal(("100", "200", "balance-rr"), (options["miimon"], options["updelay"], options["mode"]));
        Assert.Equal(new uint[] { 0, 1, 2 }, members);
    }
}
