using System.Runtime.InteropServices;
using NicScript.Driver.VfioUser;

namespace NicScript.Driver.Tests.VfioUser;

/// <summary>A guest's RAM as QEMU's <c>memory-backend-memfd,share=on</c> makes it: a sealed memfd, mapped here too so a test reads
/// what the device wrote and writes what a guest driver would.</summary>
internal sealed unsafe class GuestRam : IDisposable
{
    private readonly nint _base;

    /// <param name="sealed">Sealed against shrinking and growing, as QEMU seals it (the server maps nothing else).</param>
    public GuestRam(int bytes, bool @sealed = true)
    {
        Fd = Libc.memfd_create("guest-ram", Libc.MfdCloexec | Libc.MfdAllowSealing);
        if (Fd < 0 || Libc.ftruncate(Fd, bytes) != 0) throw new InvalidOperationException($"memfd: errno {Marshal.GetLastPInvokeError()}");
        if (@sealed && Libc.fcntl(Fd, Libc.FAddSeals, Libc.FSealShrink | Libc.FSealGrow) != 0) throw new InvalidOperationException("memfd seals");
        _base = Libc.mmap(0, (nuint)bytes, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared, Fd, 0);
        if (_base == Libc.MapFailed) throw new InvalidOperationException($"mmap: errno {Marshal.GetLastPInvokeError()}");
        Length = bytes;
    }

    public int Fd { get; }

    public int Length { get; }

    public Span<byte> Bytes => new((void*)_base, Length);

    public void Dispose()
    {
        Libc.munmap(_base, (nuint)Length);
        Libc.close(Fd);
    }
}
