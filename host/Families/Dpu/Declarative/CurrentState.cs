using Google.Protobuf;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>What the agent holds now, read once at the start of a plan.</summary>
internal sealed record CurrentState(IReadOnlyList<PortCfg> Ports, IReadOnlyList<VdiskGetPvfCfg> Vdisks, IReadOnlyList<MeterGetResponse> Meters,
    IReadOnlyList<ClassifierReadResponse> Rules, IReadOnlyList<ProcSwitchEntry> Switches, EthMacBondGetResponse Bond, IReadOnlyList<uint> OpticalMtu)
{
    /// <summary>The state as configuration only — no counters, no run-time fields except a disk's pause — in a stable text:
    /// what a saved plan was computed from, compared again before it is applied.</summary>
    public string Fingerprint()
    {
        var f = JsonFormatter.Default;
        IEnumerable<string> Lines<T>(IEnumerable<T> items, Func<T, IMessage> clean) => items.Select(i => f.Format(clean(i)));
        var lines = new List<string>();
        lines.AddRange(Lines(Ports, p => new PortCfg(p) { ActiveQpair = 0 }));
        lines.AddRange(Lines(Vdisks, v => new VdiskGetPvfCfg(v) { NrActiveQueue = 0, TransStatus = v.TransStatus == (uint)VdiskTransStatus.Paused ? 2u : 0u }));
        lines.AddRange(Lines(Meters, m => new MeterGetResponse(m) { PassPackets = 0, PassBytes = 0, DropPackets = 0, DropBytes = 0 }));
        lines.AddRange(Lines(Rules, r => new ClassifierReadResponse(r) { HitPackets = 0, HitBytes = 0 }));
        lines.AddRange(Lines(Switches, x => x));
        lines.Add(f.Format(new EthMacBondGetResponse(Bond) { ActivePortId = 0 }));
        lines.Add(string.Join(',', OpticalMtu));
        return string.Join('\n', lines);
    }
}
