using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Interrupts;
using NicScript.Driver.Pci;
using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>A virtio-net function exported on a vfio-user socket, as a machine would export it: the device made with the
/// guest memory's domain, its wire a pair whose other end the test holds.</summary>
internal sealed class ExportedFunction : IDisposable
{
    private sealed class Frames : IFrameReceiver
    {
        public readonly List<byte[]> Got = new();
        public void Receive(ReadOnlySpan<byte> frame)
        {
            lock (Got) Got.Add(frame.ToArray());
        }
    }

    private readonly Link _wire = Links.Pair("guest-wire");
    private readonly Frames _peerFrames = new();

    public ExportedFunction(string directory, byte slot, RecordingEvents events, IVfioUserTrace? trace = null)
    {
        var address = new PciAddress(0, 0, slot, 0);
        Guest = new GuestMemory(address.ToString(), events);
        Device = new VirtioNetDevice(address, Guest.Domain, new IrqLine(11), [0x52, 0x54, 0, 0x12, 0x34, slot], events);
        Device.Connect(_wire);
        Peer = _wire.Attach(_peerFrames);
        Server = new VfioUserServer(Device, Guest, Path.Combine(directory, $"fn{slot:x2}.sock"), events, trace);
    }

    public GuestMemory Guest { get; }

    public VirtioNetDevice Device { get; }

    public VfioUserServer Server { get; }

    /// <summary>The other end of the function's wire.</summary>
    public WirePort Peer { get; }

    public VfioUserTestClient Connect() => VfioUserTestClient.Connect(Server.SocketPath);

    public void Dispose()
    {
        Server.Dispose();
        _wire.Dispose();
        Guest.Dispose();
    }
}
