using System.Runtime.InteropServices;

namespace NicScript.Driver.VfioUser;

/// <summary>The Linux calls the vfio-user server needs and .NET does not offer: file descriptors passed over a Unix socket
/// (<c>SCM_RIGHTS</c>), mapping a guest's memory fd, and eventfds.</summary>
/// <remarks>Constants and layouts are Linux x86-64 and arm64 (the same for everything used here): <c>struct msghdr</c> is 56
/// bytes, <c>struct cmsghdr</c> 16 before its data, <c>st_size</c> sits at byte 48 of <c>struct stat</c>; only
/// <c>st_mode</c> moves (byte 24 on x86-64, 16 on arm64).</remarks>
internal static unsafe partial class Libc
{
    public const int ProtRead = 1, ProtWrite = 2;
    public const int MapShared = 1, MapPrivate = 2, MapFixed = 0x10, MapAnonymous = 0x20, MapNoReserve = 0x4000;
    public const int SolSocket = 1, ScmRights = 1;
    public const int MsgCtrunc = 0x8, MsgNoSignal = 0x4000, MsgCmsgCloexec = 0x4000_0000;
    public const short PollIn = 1, PollOut = 4;
    public const int Eintr = 4, Eagain = 11;
    public const int EfdCloexec = 0x80000, EfdNonblock = 0x800;
    public const uint MfdCloexec = 1, MfdAllowSealing = 2;
    public const int FAddSeals = 1033, FGetSeals = 1034, FSealShrink = 2, FSealGrow = 4;

    /// <summary>Bytes of <c>struct cmsghdr</c> before its data (<c>CMSG_LEN(0)</c>).</summary>
    public const int CmsgHeader = 16;

    public static readonly nint MapFailed = -1;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary><c>CMSG_SPACE</c> for <paramref name="fds"/> descriptors.</summary>
    public static int CmsgSpace(int fds) => CmsgHeader + ((fds * sizeof(int) + 7) & ~7);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fstat(int fd, byte* stat);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int lstat(string path, byte* stat);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg); // variadic in C: one int argument passes the same way

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    /// <summary>Whether <paramref name="path"/> is a Unix socket; null when nothing is there.</summary>
    public static bool? IsSocket(string path)
    {
        byte* stat = stackalloc byte[256];
        if (lstat(path, stat) != 0) return null;
        uint mode = *(uint*)(stat + (RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16)); // st_mode
        return (mode & 0xF000) == 0xC000; // S_IFMT, S_IFSOCK
    }

    /// <summary>The size of the file behind <paramref name="fd"/>, or -1 when it cannot be asked (not a file descriptor).</summary>
    public static long FileSize(int fd)
    {
        byte* stat = stackalloc byte[256]; // struct stat is 144 (x86-64) or 128 (arm64) bytes
        return fstat(fd, stat) == 0 ? *(long*)(stat + 48) : -1;
    }
}
