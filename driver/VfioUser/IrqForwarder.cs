using Microsoft.Win32.SafeHandles;
using NicScript.Driver.Devices;
using NicScript.Driver.Interrupts;

namespace NicScript.Driver.VfioUser;

/// <summary>Carries an exported function's interrupts to its vfio-user client: the eventfds <c>DEVICE_SET_IRQS</c> gave, one
/// per MSI-X vector and one for INTx, each signalled by writing 1 (a u64) when the device raises its interrupt.</summary>
/// <remarks>
/// Design: the forwarder is the handler connected to the device's vectors and INTx line (as a V-Node's would be), so the
/// device model is not told who listens. MSI-X: QEMU emulates the table and masks and holds pending bits itself, so the
/// function's table is put in forwarding mode (<see cref="MsixTable.ForwardToClient"/>) and every signal reaches its
/// eventfd. INTx is level-triggered and automasked (vfio's contract): the first assertion signals and masks; the client's
/// unmask (after the guest's end of interrupt) signals again if the device still asserts. An eventfd is a
/// <see cref="SafeFileHandle"/> held with a reference while it is written, so closing it races no signal onto a reused
/// descriptor number. <see cref="Set"/> runs on the session's thread; <see cref="Deliver"/> on the device's.
/// </remarks>
internal sealed unsafe class IrqForwarder : IInterruptSink, IDisposable
{
    public const uint IndexIntx = 0, IndexMsi = 1, IndexMsix = 2, IndexErr = 3, IndexReq = 4, IndexCount = 5;
    private const int Einval = 22, Ebusy = 16;

    private readonly IDeviceModel _device;
    private readonly Action<uint, int> _raised;
    private readonly object _sync = new();
    private readonly SafeFileHandle?[] _msix;
    private SafeFileHandle? _intx;
    private bool _msixConnected, _intxConnected, _intxMasked;

    /// <param name="raised">Told of each interrupt passed on (index, vector), for the trace.</param>
    public IrqForwarder(IDeviceModel device, Action<uint, int> raised)
    {
        _device = device;
        _raised = raised;
        _msix = new SafeFileHandle?[device.Msix?.Count ?? 0];
    }

    /// <summary>How many interrupts an index has (what <c>GET_IRQ_INFO</c> reports).</summary>
    public uint Count(uint index) => index switch
    {
        IndexIntx => _device.Intx is null ? 0u : 1u,
        IndexMsix => (uint)_msix.Length,
        _ => 0,
    };

    /// <summary>The <c>GET_IRQ_INFO</c> flags of an index.</summary>
    public static uint Flags(uint index) => index switch
    {
        IndexIntx => VfioUserIrqInfo.FlagEventfd | VfioUserIrqInfo.FlagMaskable | VfioUserIrqInfo.FlagAutomasked,
        IndexMsi or IndexMsix => VfioUserIrqInfo.FlagEventfd | VfioUserIrqInfo.FlagNoResize,
        _ => VfioUserIrqInfo.FlagEventfd,
    };

    /// <summary>Applies a <c>DEVICE_SET_IRQS</c>; takes the eventfds it keeps out of <paramref name="fds"/>. 0, or the errno
    /// to reply with and <paramref name="reason"/>.</summary>
    public int Set(VfioUserIrqSet set, List<SafeFileHandle> fds, ReadOnlySpan<byte> bools, out string reason)
    {
        reason = "";
        if (set.Index >= IndexCount) return Refuse(Einval, $"no interrupt index {set.Index}", out reason);
        uint count = Count(set.Index);
        if ((ulong)set.Start + set.Count > count)
            return Refuse(Einval, $"interrupts {set.Start}+{set.Count} of index {set.Index}, which has {count}", out reason);
        if (set.Data != VfioUserIrqSet.DataEventfd && fds.Count != 0)
            return Refuse(Einval, $"{fds.Count} fds with a request that takes none", out reason);
        lock (_sync)
        {
            if (set.Data == VfioUserIrqSet.DataEventfd) return SetEventfds(set, fds, out reason);
            if (set.Data == VfioUserIrqSet.DataNone && set.Action == VfioUserIrqSet.ActionTrigger && set.Count == 0)
            {
                Release(set.Index);
                return 0;
            }
            for (uint i = 0; i < set.Count; i++)
            {
                if (set.Data == VfioUserIrqSet.DataBool && bools[(int)i] == 0) continue;
                int e = Act(set.Index, set.Start + i, set.Action, out reason);
                if (e != 0) return e;
            }
            return 0;
        }
    }

    private int SetEventfds(VfioUserIrqSet set, List<SafeFileHandle> fds, out string reason)
    {
        reason = "";
        if (set.Action != VfioUserIrqSet.ActionTrigger) return Refuse(Einval, "eventfds are taken for the trigger action only", out reason);
        if (fds.Count != 0 && fds.Count != set.Count)
            return Refuse(Einval, $"{fds.Count} fds for {set.Count} interrupts", out reason);
        foreach (SafeFileHandle fd in fds)
            if (!IsEventfd(fd)) return Refuse(Einval, $"fd {fd.DangerousGetHandle()} is not an eventfd", out reason);
        if (set.Index == IndexIntx && set.Count > 0)
        {
            Replace(ref _intx, fds.Count == 0 ? null : fds[0]); // first: a line already asserted fires as the handler connects
            if (!_intxConnected && !_device.Intx!.Connect(this))
            {
                Replace(ref _intx, null);
                return Refuse(Ebusy, $"{_device.Intx.Name} has another handler", out reason);
            }
            _intxConnected = true;
        }
        else if (set.Index == IndexMsix && set.Count > 0)
        {
            if (!_msixConnected && !ConnectVectors()) return Refuse(Ebusy, "an MSI-X vector has another handler", out reason);
            for (int i = 0; i < set.Count; i++) Replace(ref _msix[set.Start + i], fds.Count == 0 ? null : fds[i]);
        }
        fds.Clear(); // kept above, or (a count of zero, nothing to set) left for the caller to close
        return 0;
    }

    private int Act(uint index, uint n, uint action, out string reason)
    {
        reason = "";
        if (index == IndexIntx)
        {
            switch (action)
            {
                case VfioUserIrqSet.ActionMask: _intxMasked = true; break;
                case VfioUserIrqSet.ActionUnmask:
                    _intxMasked = false;
                    if (_device.Intx!.Asserted) SignalIntxLocked();
                    break;
                default: SignalIntxLocked(); break;
            }
            return 0;
        }
        if (action != VfioUserIrqSet.ActionTrigger) return Refuse(Einval, "MSI-X vectors are masked by the client, not the device", out reason);
        Signal(_msix[n], IndexMsix, (int)n);
        return 0;
    }

    public void Deliver(Interrupt interrupt, long raisedTimestamp)
    {
        if (interrupt is MsixVector v)
        {
            if (v.Number < _msix.Length) Signal(Volatile.Read(ref _msix[v.Number]), IndexMsix, v.Number);
            return;
        }
        lock (_sync)
        {
            if (_intxMasked) return; // the unmask signals again while the line stays asserted
            SignalIntxLocked();
        }
    }

    private void SignalIntxLocked()
    {
        if (_intx is null) return;
        _intxMasked = true;
        Signal(_intx, IndexIntx, 0);
    }

    private void Signal(SafeFileHandle? fd, uint index, int vector)
    {
        bool added = false;
        try
        {
            if (fd is null || fd.IsClosed) return; // no eventfd set (QEMU enables MSI-X before it gives every vector one): lost, as on hardware with nothing listening
            fd.DangerousAddRef(ref added);
            ulong one = 1;
            if (Libc.write((int)fd.DangerousGetHandle(), &one, sizeof(ulong)) == sizeof(ulong)) _raised(index, vector);
        }
        catch (ObjectDisposedException)
        {
            // closed by the session between the check and the reference: the client is going
        }
        finally
        {
            if (added) fd!.DangerousRelease();
        }
    }

    private bool ConnectVectors()
    {
        MsixTable table = _device.Msix!;
        for (int v = 0; v < table.Count; v++)
        {
            if (table.Vector(v).Connect(this)) continue;
            for (int u = 0; u < v; u++) table.Vector(u).Disconnect(this);
            return false;
        }
        table.ForwardToClient(true);
        _msixConnected = true;
        return true;
    }

    /// <summary>Every interrupt of <paramref name="index"/> is disabled: eventfds closed, handlers disconnected.</summary>
    private void Release(uint index)
    {
        if (index == IndexIntx && _intxConnected)
        {
            _device.Intx!.Disconnect(this);
            _intxConnected = false;
            _intxMasked = false;
            Replace(ref _intx, null);
        }
        if (index == IndexMsix && _msixConnected)
        {
            MsixTable table = _device.Msix!;
            table.ForwardToClient(false);
            for (int v = 0; v < table.Count; v++) table.Vector(v).Disconnect(this);
            _msixConnected = false;
            for (int v = 0; v < _msix.Length; v++) Replace(ref _msix[v], null);
        }
    }

    private static void Replace(ref SafeFileHandle? slot, SafeFileHandle? fd) => Interlocked.Exchange(ref slot, fd)?.Dispose();

    /// <summary>Whether <paramref name="fd"/> is an eventfd (what <c>/proc/self/fd</c> names <c>anon_inode:[eventfd]</c>): anything
    /// else written 8 bytes to could be a file.</summary>
    private static bool IsEventfd(SafeFileHandle fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd.DangerousGetHandle()}").LinkTarget == "anon_inode:[eventfd]";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int Refuse(int errno, string why, out string reason)
    {
        reason = why;
        return errno;
    }

    public void Dispose()
    {
        lock (_sync)
        {
            Release(IndexIntx);
            Release(IndexMsix);
        }
    }
}
