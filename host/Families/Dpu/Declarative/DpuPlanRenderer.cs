using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using NicScript.Dpu.V1;
using NicScript.Host.Families.Dpu.Agent;

namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>A plan as <c>nicscript plan</c> shows it: its lines and summary (also what a saved plan is checked against),
/// or its changes as JSON for <c>--json</c>; and the spelling of the values in a change's text (sizes, macs, targets).</summary>
internal static class DpuPlanRenderer
{
    /// <summary>The plan's lines and its summary, or "No changes."</summary>
    public static string Render(IReadOnlyList<PlanChange> changes)
    {
        if (changes.Count == 0) return "No changes.\n";
        var sb = new System.Text.StringBuilder();
        foreach (PlanChange ch in changes.OrderBy(x => Rank(x.Op)).ThenBy(x => x.Kind, StringComparer.Ordinal).ThenBy(x => x.Key, StringComparer.Ordinal))
        {
            string name = $"{ch.Kind} {ch.Key}".TrimEnd();
            sb.Append(CultureInfo.InvariantCulture, $"{ch.Op,3} {name,-24} {ch.Text}\n");
        }
        sb.Append(CultureInfo.InvariantCulture, $"Plan: {changes.Count(x => x.Op == "+")} to add, {changes.Count(x => x.Op == "~")} to change, {changes.Count(x => x.Op == "-/+")} to replace, {changes.Count(x => x.Op == "-")} to destroy.\n");
        return sb.ToString();
    }

    private static int Rank(string op) => op switch { "+" => 0, "~" => 1, "-/+" => 2, _ => 3 };

    /// <summary>The plan as <c>{"changes": [{op, kind, key, text, rpcs: [{phase, rpc, what}]}]}</c>, changes in the order
    /// the differ made them.</summary>
    public static JsonObject Json(IReadOnlyList<PlanChange> plan)
    {
        var steps = new JsonArray();
        foreach (PlanChange c in plan)
            steps.Add(new JsonObject
            {
                ["op"] = c.Op, ["kind"] = c.Kind, ["key"] = c.Key, ["text"] = c.Text,
                ["rpcs"] = new JsonArray(c.Steps.Select(s => (JsonNode)new JsonObject { ["phase"] = s.Phase, ["rpc"] = s.Rpc, ["what"] = s.What }).ToArray()),
            });
        return new JsonObject { ["changes"] = steps };
    }

    /// <summary>A rule's target as the file writes it: <c>drop</c>, <c>optical:N</c>, <c>soc:N</c> or <c>vport:N</c>.</summary>
    public static string Target(int vid) => vid switch
    {
        -1 => "drop",
        >= DpuAgent.OpticalBase => $"optical:{vid - DpuAgent.OpticalBase}",
        >= DpuAgent.SocBase => $"soc:{vid - DpuAgent.SocBase}",
        _ => $"vport:{vid}",
    };

    public static string Mac(ByteString mac) => NicScript.Driver.Wire.MacAddress.Format(mac.Span);

    /// <summary>A new port's fields as the file gives them, or "defaults".</summary>
    public static string Describe(NewPortRequest p)
    {
        var parts = new List<string>();
        if (p.HasVport) parts.Add($"vport {p.Vport}");
        if (p.HasMac) parts.Add($"mac {Mac(p.Mac)}");
        if (p.HasMtu) parts.Add($"mtu {p.Mtu}");
        if (p.HasMaxQpair) parts.Add($"max_qpair {p.MaxQpair}");
        if (p.HasQueueDepth) parts.Add($"queue_depth {p.QueueDepth}");
        if (p.HasFeatureList) parts.Add($"feature_list 0x{p.FeatureList:x}");
        return parts.Count == 0 ? "defaults" : string.Join(", ", parts);
    }

    /// <summary>Sectors as the largest whole binary unit (20GiB), else as sectors.</summary>
    public static string Size(ulong sectors)
    {
        ulong bytes = sectors * 512;
        foreach (var (unit, factor) in new[] { ("TiB", 1UL << 40), ("GiB", 1UL << 30), ("MiB", 1UL << 20), ("KiB", 1UL << 10) })
            if (bytes >= factor && bytes % factor == 0) return $"{bytes / factor}{unit}";
        return $"{sectors} sectors";
    }
}
