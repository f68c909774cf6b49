using System.Buffers.Binary;
using System.Text;

namespace NicScript.Host.Guests;

/// <summary>One kernel release's modules (<c>lib/modules/RELEASE</c> of the Debian package, unpacked without its
/// postinst, so there is no <c>modules.dep</c>). A module's dependencies are read where <c>modinfo</c> reads them, the
/// <c>depends=</c> entry of its ELF <c>.modinfo</c> section, so the guest's <c>/init</c> can <c>insmod</c> in order
/// without kmod on either side.</summary>
internal sealed class KernelModules(string directory)
{
    private readonly Lazy<Dictionary<string, string>> _files = new(() => Index(directory));

    /// <summary>The <c>lib/modules/RELEASE</c> folder.</summary>
    public string Directory { get; } = directory;

    /// <summary>The <c>.ko</c> file of <paramref name="name"/> (<c>virtio_net</c>; a dash and an underscore are the same,
    /// as for modprobe).</summary>
    public string File(string name) =>
        _files.Value.TryGetValue(Canonical(name), out string? path)
            ? path
            : throw new InvalidOperationException($"no module {name} under {Directory}");

    /// <summary>Whether the release has module <paramref name="name"/> (a driver built into the kernel has none).</summary>
    public bool Has(string name) => _files.Value.ContainsKey(Canonical(name));

    /// <summary><paramref name="names"/> and everything they depend on, each after its dependencies: the order to
    /// insmod them in.</summary>
    public IReadOnlyList<string> LoadOrder(IEnumerable<string> names)
    {
        var order = new List<string>();
        var visiting = new HashSet<string>();
        foreach (string name in names) Visit(Canonical(name), order, visiting);
        return order;
    }

    private void Visit(string name, List<string> order, HashSet<string> visiting)
    {
        if (order.Contains(name)) return;
        if (!visiting.Add(name)) throw new InvalidOperationException($"module {name} depends on itself through {string.Join(", ", visiting)}");
        foreach (string dependency in Depends(File(name))) Visit(Canonical(dependency), order, visiting);
        visiting.Remove(name);
        order.Add(name);
    }

    /// <summary>The <c>depends=</c> list of a module file's <c>.modinfo</c> section.</summary>
    public static IReadOnlyList<string> Depends(string koFile)
    {
        foreach (string entry in ModInfo(System.IO.File.ReadAllBytes(koFile)))
            if (entry.StartsWith("depends=", StringComparison.Ordinal))
                return entry["depends=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries);
        return [];
    }

    /// <summary>The NUL-separated <c>key=value</c> strings of an ELF64 little-endian object's <c>.modinfo</c> section.</summary>
    private static IEnumerable<string> ModInfo(byte[] elf)
    {
        ReadOnlySpan<byte> e = elf;
        if (e.Length < 64 || !e[..4].SequenceEqual((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F']) || e[4] != 2 || e[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF object");
        int shoff = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(e[0x28..]));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(e[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(e[0x3C..]);
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(e[0x3E..]);
        ReadOnlySpan<byte> Section(ReadOnlySpan<byte> all, int index, out uint nameOffset)
        {
            ReadOnlySpan<byte> header = all.Slice(shoff + index * shentsize, shentsize);
            nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(header);
            int offset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(header[24..]));
            int size = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]));
            return all.Slice(offset, size);
        }
        ReadOnlySpan<byte> names = Section(e, shstrndx, out _);
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> content = Section(e, i, out uint nameOffset);
            ReadOnlySpan<byte> name = names[(int)nameOffset..];
            name = name[..name.IndexOf((byte)0)];
            if (name.SequenceEqual(".modinfo"u8))
                return Encoding.ASCII.GetString(content).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        return [];
    }

    private static Dictionary<string, string> Index(string directory)
    {
        var files = new Dictionary<string, string>();
        foreach (string ko in System.IO.Directory.EnumerateFiles(directory, "*.ko", SearchOption.AllDirectories))
            files.TryAdd(Canonical(Path.GetFileNameWithoutExtension(ko)), ko);
        return files;
    }

    private static string Canonical(string name) => name.Replace('-', '_');
}
