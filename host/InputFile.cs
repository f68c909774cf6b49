using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace NicScript.Host;

/// <summary>The one door for files the host reads on a user's behalf (manifests, system and machine files, DPU state
/// files and saved plans, scripts and their <c>#load</c>ed siblings, the REPL's <c>.load</c>): a regular file only,
/// after every symbolic link, no larger than a limit, read with a bounded read.</summary>
/// <remarks>
/// Design: a FIFO blocks <c>open</c> until a writer comes and a device (<c>/dev/zero</c>, <c>/dev/urandom</c>) never
/// ends, so the type is checked on the descriptor that was opened (no race between a check and the open): on Linux the
/// file is opened with <c>O_NONBLOCK</c> (a FIFO opens at once instead of waiting) and <c>statx</c> on that descriptor
/// must say "regular file". The size <c>statx</c> reports is never trusted alone (<c>/proc</c> files report 0 and a
/// file can grow while it is read): at most limit + 1 bytes are read, and one byte more than the limit is refused.
/// A symbolic-link loop fails <c>open</c> with ELOOP. <see cref="Read"/> also returns the real path of what was opened
/// (<c>/proc/self/fd</c>), so a caller can require it inside a folder. Elsewhere than Linux, folders are refused and
/// the bounded read still holds; a FIFO cannot be told apart there.
/// </remarks>
public static class InputFile
{
    /// <summary>Largest YAML file read: a manifest, system file, machine file or DPU state file.</summary>
    public const int MaxYamlBytes = 4 * 1024 * 1024;

    /// <summary>Largest script read: an entrypoint, a <c>#load</c>ed sibling, a REPL <c>.load</c>.</summary>
    public const int MaxScriptBytes = 16 * 1024 * 1024;

    /// <summary>Largest plan saved by <c>plan -o</c> (it carries its state file's text).</summary>
    public const int MaxPlanBytes = 16 * 1024 * 1024;

    /// <summary>What was read: the text and the real path of the file it came from (every link resolved).</summary>
    public readonly record struct Contents(string Text, string RealPath);

    /// <summary>Reads <paramref name="path"/> as text (UTF-8 unless a byte-order mark says otherwise).</summary>
    /// <param name="what">What the file is, for the size error ("scripts", "YAML files").</param>
    /// <exception cref="InputFileException">It is missing, not a regular file, unreadable or larger than the limit.</exception>
    public static string ReadText(string path, int maxBytes, string what) => Read(path, maxBytes, what).Text;

    /// <inheritdoc cref="ReadText"/>
    public static Contents Read(string path, int maxBytes, string what)
    {
        if (path.Length == 0) throw new InputFileException(path, "file not found");
        if (path.Contains('\0')) throw new InputFileException(path, "not a file name (it contains a NUL character)");
        using SafeFileHandle handle = Open(path);
        string real = RealPath(handle, path);
        byte[] bytes = ReadBounded(handle, path, maxBytes, what);
        using var reader = new StreamReader(new MemoryStream(bytes, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return new Contents(reader.ReadToEnd(), real);
    }

    /// <summary>The real path of the folder <paramref name="path"/> (every link in it resolved), or null when it is not a folder.</summary>
    public static string? RealFolder(string path)
    {
        if (!OperatingSystem.IsLinux() || path.Contains('\0'))
            return Directory.Exists(path) ? Directory.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path) : null;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) return null;
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var stx = new byte[StatxSize];
        if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE, stx) != 0 || (BitConverter.ToUInt16(stx, StatxModeOffset) & S_IFMT) != S_IFDIR) return null;
        return RealPath(handle, path);
    }

    private static SafeFileHandle Open(string path)
    {
        if (!OperatingSystem.IsLinux()) return OpenPortable(path);
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) throw new InputFileException(path, Describe(Marshal.GetLastPInvokeError()));
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            CheckRegular(handle, path);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void CheckRegular(SafeFileHandle handle, string path)
    {
        var stx = new byte[StatxSize];
        int rc;
        try { rc = statx((int)handle.DangerousGetHandle(), "", AT_EMPTY_PATH, STATX_TYPE, stx); }
        catch (EntryPointNotFoundException) { throw new InputFileException(path, "cannot tell whether this is a regular file (statx needs glibc 2.28 or later)"); }
        if (rc != 0) throw new InputFileException(path, Describe(Marshal.GetLastPInvokeError()));
        int type = BitConverter.ToUInt16(stx, StatxModeOffset) & S_IFMT;
        if (type == S_IFREG) return;
        throw new InputFileException(path, type switch
        {
            S_IFDIR => "is a folder, not a file",
            S_IFIFO => "not a regular file (a FIFO); only regular files are read",
            S_IFCHR => "not a regular file (a character device); only regular files are read",
            S_IFBLK => "not a regular file (a block device); only regular files are read",
            S_IFSOCK => "not a regular file (a socket); only regular files are read",
            _ => "not a regular file; only regular files are read",
        });
    }

    private static SafeFileHandle OpenPortable(string path)
    {
        if (Directory.Exists(path)) throw new InputFileException(path, "is a folder, not a file");
        try { return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new InputFileException(path, "file not found"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InputFileException(path, e.Message); }
    }

    private static string RealPath(SafeFileHandle handle, string path)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                if (new FileInfo($"/proc/self/fd/{handle.DangerousGetHandle()}").LinkTarget is { Length: > 0 } target && target[0] == '/') return target;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        try { return File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path); }
        catch (IOException) { return Path.GetFullPath(path); }
    }

    private static byte[] ReadBounded(SafeFileHandle handle, string path, int maxBytes, string what)
    {
        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        var buffer = new byte[Math.Min(maxBytes + 1L, 64 * 1024)];
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes) break;
                    Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1L, buffer.Length * 2L));
                }
                int n = stream.Read(buffer, length, buffer.Length - length);
                if (n == 0) break;
                length += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new InputFileException(path, "cannot read: " + e.Message);
        }
        if (length > maxBytes) throw new InputFileException(path, $"larger than {Size(maxBytes)}, the limit for {what}");
        return length == buffer.Length ? buffer : buffer[..length];
    }

    private static string Size(int bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MiB" : $"{bytes} bytes";

    private static string Describe(int errno) => errno switch
    {
        ENOENT or ENOTDIR => "file not found",
        EACCES or EPERM => "permission denied",
        ELOOP => "too many levels of symbolic links (a link loop?)",
        ENXIO => "not a regular file (a socket or a device with nothing behind it); only regular files are read",
        ENAMETOOLONG => "file name too long",
        _ => $"cannot open (errno {errno})",
    };

    // Linux open(2) flags and errno values shared by every architecture .NET runs on (x64, arm64, arm, riscv64, s390x, ppc64le, loongarch64).
    private const int O_RDONLY = 0, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    private const int EPERM = 1, ENOENT = 2, ENXIO = 6, EACCES = 13, ENOTDIR = 20, ENAMETOOLONG = 36, ELOOP = 40;

    // statx(2): the same layout on every architecture; stx_mode is a __u16 at offset 28 of a 256-byte struct.
    private const int AT_EMPTY_PATH = 0x1000, StatxSize = 256, StatxModeOffset = 28;
    private const uint STATX_TYPE = 0x1;
    private const int S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFREG = 0x8000, S_IFBLK = 0x6000, S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
}
