using System.Globalization;
using NicScript.Driver.Devices.Dpu;
using NicScript.Host.Manifests;

namespace NicScript.Host.Families.Dpu;

/// <summary>The machine file's <c>dpu</c> block: the machine's DPU sizes (reference/dpu.md §5.1), and the wires the DPU's
/// ports plug into.</summary>
internal static class DpuMachineBlock
{
    /// <summary>The block's key, and the key of its <see cref="DpuConfig"/> in <see cref="MachineSpec.Blocks"/>.</summary>
    public const string Key = "dpu";

    private static readonly string[] Keys =
    [
        "elastic_nic_slots", "vdisk_slots", "max_qpair", "max_queue", "max_queue_depth", "meter_table", "classifier_table", "soc_ports", "soc_queues",
        "optical_ports", "optical_speed_mbps", "optical_queues", "optical_mtu", "max_sectors",
    ];

    /// <summary>The DPU's sizes on the machine <paramref name="spec"/> describes: its <c>dpu</c> block's, or the defaults.</summary>
    public static DpuConfig Of(MachineSpec? spec) => spec?.Block<DpuConfig>(Key) ?? new DpuConfig();

    /// <summary>Reads the block (null: the file has none) and checks the DPU's port wires against the sizes it gives.</summary>
    public static DpuConfig? Read(YamlNode? node, MachineWiring wiring, ManifestReader r)
    {
        DpuConfig? config = node is null ? null : Parse(node, r);
        CheckWires(config ?? new DpuConfig(), wiring, r);
        return config;
    }

    /// <summary>The sizes; each key optional, each at least 1.</summary>
    private static DpuConfig? Parse(YamlNode node, ManifestReader r)
    {
        if (r.Mapping(node, "dpu") is not { } d) return null;
        r.Keys(d, "dpu", Keys, []);
        var c = new DpuConfig();
        long Get(string key, long fallback, long max)
        {
            long v = r.Integer(d[key], "dpu." + key) ?? fallback;
            if (v < 1 || v > max) r.Error(d[key]!, $"dpu.{key}: {v} is not 1..{max}");
            return v;
        }
        return c with
        {
            ElasticNicSlots = (int)Get("elastic_nic_slots", c.ElasticNicSlots, 256), VdiskSlots = (int)Get("vdisk_slots", c.VdiskSlots, 256),
            MaxQpair = (int)Get("max_qpair", c.MaxQpair, 256), MaxQueue = (int)Get("max_queue", c.MaxQueue, 256),
            MaxQueueDepth = (int)Get("max_queue_depth", c.MaxQueueDepth, 32768), MeterTable = (int)Get("meter_table", c.MeterTable, 1 << 20),
            ClassifierTable = (int)Get("classifier_table", c.ClassifierTable, 1 << 20), SocPorts = (int)Get("soc_ports", c.SocPorts, 16),
            SocQueues = (int)Get("soc_queues", c.SocQueues, 16), OpticalPorts = (int)Get("optical_ports", c.OpticalPorts, 16),
            OpticalSpeedMbps = (uint)Get("optical_speed_mbps", c.OpticalSpeedMbps, 400_000), OpticalQueues = (int)Get("optical_queues", c.OpticalQueues, 16),
            OpticalMtu = (uint)Get("optical_mtu", c.OpticalMtu, DpuConfig.MaxMtu), MaxSectors = (ulong)Get("max_sectors", (long)c.MaxSectors, 1L << 40),
        };
    }

    /// <summary>
    /// The DPU's SoC and optical ports are the machine's wires <c>dpu-socN</c> / <c>dpu-opticalN</c> when the file defines
    /// them (a TAP, say): the DPU's switch holds one end of each, so such a wire must have room for it beside its devices.
    /// </summary>
    private static void CheckWires(DpuConfig dpu, MachineWiring wiring, ManifestReader r)
    {
        foreach (WireSpec w in wiring.Wires)
        {
            bool soc = w.Name.StartsWith("dpu-soc", StringComparison.Ordinal) && int.TryParse(w.Name.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s < dpu.SocPorts && w.Name == $"dpu-soc{s}";
            bool optical = w.Name.StartsWith("dpu-optical", StringComparison.Ordinal) && int.TryParse(w.Name.AsSpan(11), NumberStyles.None, CultureInfo.InvariantCulture, out int o) && o < dpu.OpticalPorts && w.Name == $"dpu-optical{o}";
            if ((soc || optical) && wiring.IsFull(w))
                r.Error(wiring.At(w), $"wire '{w.Name}' is a DPU port: the DPU's switch takes one of its ends, and its devices take the rest ({MachineWiring.DescribeRoom(w)})");
        }
    }
}
