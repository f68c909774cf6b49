using System.Runtime.InteropServices;
using System.Text;

namespace NicScript.Driver.Wire;

/// <summary>A wire to the Linux network stack: a TAP device (IFF_TAP | IFF_NO_PI) made through /dev/net/tun.</summary>
/// <remarks>
/// Design: frames a device transmits are written to the TAP file descriptor, one <c>write()</c> each; a reader
/// thread waits in <c>poll()</c> and delivers each frame the kernel sends to the attached device, from one receive
/// buffer made once. The device is not persistent: closing the descriptor removes the interface, so it goes away
/// with the run. Addressing is left to the user (ip addr add ..., ip link set ... up).
/// </remarks>
internal sealed partial class TapLink : Link
{
    private const uint TunSetIff = 0x400454ca;
    private const short IffTap = 0x0002, IffNoPi = 0x1000;
    private const int ORdwr = 2, ONonblock = 0x800, OCloexec = 0x80000;
    private const short PollIn = 1;

    private readonly int _fd;
    private readonly Thread _reader;
    private readonly byte[] _rx = new byte[65536];
    private volatile bool _stopping;
    private long _writeErrors;

    private TapLink(string ifname, int fd) : base("tap:" + ifname)
    {
        InterfaceName = ifname;
        _fd = fd;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "tap-rx:" + ifname };
        _reader.Start();
    }

    public string InterfaceName { get; }

    public override int MaxPorts => 1;

    public long WriteErrors => Interlocked.Read(ref _writeErrors);

    public static TapLink Open(string ifname)
    {
        if (ifname.Length is 0 or > 15 || ifname.Any(c => c is '/' or ' ' or '\0'))
            throw new TapException($"'{ifname}' is not an interface name (1-15 characters, no '/' or spaces)");
        int fd = open("/dev/net/tun", ORdwr | ONonblock | OCloexec);
        if (fd < 0) throw new TapException($"cannot open /dev/net/tun: {Marshal.GetLastPInvokeErrorMessage()}");
        Span<byte> ifr = stackalloc byte[40];
        ifr.Clear();
        Encoding.ASCII.GetBytes(ifname, ifr);
        MemoryMarshal.Write(ifr[16..], (short)(IffTap | IffNoPi));
        unsafe
        {
            fixed (byte* p = ifr)
            {
                if (ioctl(fd, TunSetIff, p) < 0)
                {
                    string why = Marshal.GetLastPInvokeErrorMessage();
                    close(fd);
                    throw new TapException($"cannot create TAP device {ifname}: {why}");
                }
            }
        }
        return new TapLink(ifname, fd);
    }

    protected internal override unsafe void Route(WirePort from, ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            if (write(_fd, p, (nint)frame.Length) < 0) Interlocked.Increment(ref _writeErrors); // EAGAIN: the kernel queue is full; a wire may drop
        }
    }

    /// <summary>How long the reader keeps polling an empty TAP before it sleeps in poll(): a wake-up per frame costs more than the spin.</summary>
    private static readonly long BusyPollTicks = System.Diagnostics.Stopwatch.Frequency / 20_000; // 50 µs

    private unsafe void ReadLoop()
    {
        var pfd = new PollFd { Fd = _fd, Events = PollIn };
        while (!_stopping)
        {
            int ready = poll(&pfd, 1, 100);
            if (ready <= 0 || _stopping) continue;
            long idleSince = System.Diagnostics.Stopwatch.GetTimestamp();
            while (!_stopping)
            {
                nint n;
                fixed (byte* p = _rx) n = read(_fd, p, _rx.Length);
                if (n > 0)
                {
                    Inbound(_rx.AsSpan(0, (int)n));
                    idleSince = System.Diagnostics.Stopwatch.GetTimestamp();
                    continue;
                }
                if (System.Diagnostics.Stopwatch.GetTimestamp() - idleSince > BusyPollTicks) break; // quiet: sleep in poll()
                Thread.SpinWait(20);
            }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _stopping = true;
        _reader.Join(TimeSpan.FromSeconds(2));
        close(_fd); // a non-persistent TAP device disappears with its last descriptor
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, nuint request, byte* arg); // request is an unsigned long in the C prototype

    // The data path's calls do not marshal errno: a failed write is counted, a failed read ends the read burst.
    [LibraryImport("libc")]
    private static unsafe partial nint write(int fd, byte* buf, nint count);

    [LibraryImport("libc")]
    private static unsafe partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
