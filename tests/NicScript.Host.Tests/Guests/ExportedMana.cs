using System.Collections.Concurrent;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Memory;
using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Host.Tests.Guests;

/// <summary>A machine whose MANA VF (00:1e.1, under its PF at 00:1e.0, as on the default machine) is exported on a
/// vfio-user socket, with an <see cref="EchoResponder"/> at the far end of the VF's wire: what a guest's mana driver binds
/// and pings through, stood up inside the test process.</summary>
internal sealed class ExportedMana : IDisposable
{
    /// <summary>The responder's address on the VF's wire; the guest takes <see cref="GuestAddress"/>.</summary>
    public const string ResponderAddress = "192.0.2.1", GuestAddress = "192.0.2.2/24";

    private readonly Machine _machine;
    private readonly Link _wire = Links.Pair("mana-guest-wire");

    public ExportedMana(string socketPath)
    {
        _machine = new Machine("mana-guest", Events);
        Guest = _machine.ExportToGuest(DefaultMachine.ManaVf);
        Responder = new EchoResponder(_wire, [192, 0, 2, 1], [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);
        Link wire = _machine.AddLink(_wire);
        _machine.Add(new ManaPhysicalFunction(_machine, DefaultMachine.ManaPf, [0x00, 0x15, 0x5d, 0x00, 0x00, 0x01], wire)).EnableVfs(1);
        Vf = _machine.Devices.OfType<ManaDevice>().Single();
        Server = new VfioUserServer(Vf, Guest, socketPath, Events);
    }

    public RecordingEvents Events { get; } = new();

    /// <summary>The guest's RAM as the VF sees it.</summary>
    public GuestMemory Guest { get; }

    public ManaDevice Vf { get; }

    public VfioUserServer Server { get; }

    public EchoResponder Responder { get; }

    public void Dispose()
    {
        Server.Dispose();
        Responder.Dispose();
        _machine.Dispose();
    }

    /// <summary>What the model refused while the guest drove it (each a disagreement with the real driver).</summary>
    internal sealed class RecordingEvents : IDeviceEvents
    {
        private readonly ConcurrentQueue<string> _faults = new();

        public IReadOnlyList<string> Faults => _faults.ToArray();

        public void Fault(DeviceFault fault) => _faults.Enqueue($"{fault.Device} {fault.Reason}: {fault.Detail}");

        void IDmaFaultSink.DmaFault(DmaFault fault) => _faults.Enqueue($"DMA fault: {fault}");
    }
}
