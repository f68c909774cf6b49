namespace NicScript.Host.Tests.Guests;

/// <summary>One guest boot: which scenario <c>/init</c> runs with which parameters, what PCI functions and QEMU backends
/// the machine has, and how long it may take.</summary>
internal sealed record GuestBootOptions(string Scenario)
{
    /// <summary>The scenario's parameters, passed as kernel arguments <c>nstest.KEY=VALUE</c> (no spaces).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The PCI functions, each on its own root port.</summary>
    public IReadOnlyList<GuestDevice> Devices { get; init; } = [];

    /// <summary>More QEMU arguments: the backends the devices name (<c>-netdev user,id=n0</c>, <c>-drive …</c>).</summary>
    public IReadOnlyList<string> QemuArguments { get; init; } = [];

    /// <summary>More kernel arguments (<c>loglevel=7</c> to see a driver's info messages on the console).</summary>
    public string KernelArguments { get; init; } = "";

    /// <summary>Whether QEMU listens for QMP (needed for <see cref="GuestVm.Qmp"/>: hot-unplug, re-add).</summary>
    public bool Qmp { get; init; }

    /// <summary>The bound on the whole boot: TCG boots in 5–8 s on an idle 2-core machine and several times that on a
    /// loaded one; past this the guest is killed and the test fails with its console.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
}
