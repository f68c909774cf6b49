using System.IO.Compression;
using System.Text;

namespace NicScript.Host.Guests;

/// <summary>A gzip'd cpio archive in the "newc" format the kernel unpacks as its initial root file system
/// (linux: Documentation/driver-api/early-userspace/buffer-format.rst), written here so the host needs no cpio.</summary>
internal sealed class Initramfs : IDisposable
{
    private const int Directory = 0x4000, Regular = 0x8000, CharDevice = 0x2000;
    private readonly GZipStream _gzip;
    private int _inode = 1;

    public Initramfs(Stream output) => _gzip = new GZipStream(output, CompressionLevel.Fastest);

    /// <summary>Adds a directory (its parents must come first, as in any cpio).</summary>
    public void AddDirectory(string path) => Add(path, Directory | 0x1ED, [], nlink: 2); // 0755

    /// <summary>Adds a file; <paramref name="executable"/> gives it mode 0755, else 0644.</summary>
    public void AddFile(string path, ReadOnlySpan<byte> content, bool executable = false) =>
        Add(path, Regular | (executable ? 0x1ED : 0x1A4), content);

    /// <summary>Adds a character device node (<c>/dev/console</c> is 5:1: the kernel opens it before <c>/init</c>).</summary>
    public void AddCharDevice(string path, int major, int minor) => Add(path, CharDevice | 0x180, [], rdevMajor: major, rdevMinor: minor);

    private void Add(string path, int mode, ReadOnlySpan<byte> content, int nlink = 1, int rdevMajor = 0, int rdevMinor = 0)
    {
        byte[] name = Encoding.UTF8.GetBytes(path.TrimStart('/') + "\0");
        var header = new StringBuilder("070701");
        foreach (int field in (int[])[_inode++, mode, 0, 0, nlink, 0, content.Length, 0, 0, rdevMajor, rdevMinor, name.Length, 0])
            header.Append(field.ToString("X8"));
        _gzip.Write(Encoding.ASCII.GetBytes(header.ToString()));
        _gzip.Write(name);
        Pad(110 + name.Length);
        _gzip.Write(content);
        Pad(content.Length);
    }

    private void Pad(int written)
    {
        Span<byte> zeros = stackalloc byte[3];
        zeros.Clear();
        _gzip.Write(zeros[..((4 - written % 4) % 4)]);
    }

    /// <summary>Writes the trailer and closes the stream.</summary>
    public void Dispose()
    {
        Add("TRAILER!!!", 0, []);
        _gzip.Dispose();
    }
}
