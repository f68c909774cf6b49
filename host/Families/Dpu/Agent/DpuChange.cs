using Google.Protobuf;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>
/// What a validator decided for one changing request against one state: refused (an outcome, nothing else), nothing to
/// do (OK, no rows), or a change — the state after it, the rows that make it durable (a null value deletes the row) and
/// the step, if any, that puts it in force on the device.
/// </summary>
/// <remarks>Design: a value, not an action, so a validator needs neither the store nor the device and is tested on its
/// own; the writer commits the rows and hands the step to the <see cref="DpuProgrammer"/>.</remarks>
internal sealed record DpuChange(DpuOutcome Outcome, DpuState? Next, List<(string Table, long Key, byte[]? Value)>? Rows, DpuDeviceStep? Step)
{
    /// <summary>True when the change commits rows: OK, a next state and at least one row.</summary>
    public bool Changes => Outcome.IsOk && Next is not null && Rows is { Count: > 0 };

    public static DpuChange Refuse(DpuStatus s, string detail) => new(new DpuOutcome(s, detail), null, null, null);

    public static DpuChange Nothing() => new(DpuOutcome.Ok, null, null, null);

    public static DpuChange Done(DpuState next, List<(string Table, long Key, byte[]? Value)> rows, DpuDeviceStep? step = null) => new(DpuOutcome.Ok, next, rows, step);

    /// <summary>A stored object's row value: its protobuf bytes.</summary>
    public static byte[] Bytes(IMessage m) => m.ToByteArray();
}
