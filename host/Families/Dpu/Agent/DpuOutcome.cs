using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Agent;

/// <summary>An rpc's outcome: the status for the reply's <c>status</c> field and a one-line detail for the trailers.</summary>
public readonly record struct DpuOutcome(DpuStatus Status, string Detail)
{
    public static readonly DpuOutcome Ok = new(DpuStatus.Ok, "");
    public bool IsOk => Status == DpuStatus.Ok;

    /// <summary>A status as the trailers, the audit log and script errors spell it (<c>NOT_FOUND</c>).</summary>
    public static string StatusName(DpuStatus s) => s switch
    {
        DpuStatus.Ok => "OK",
        DpuStatus.NotFound => "NOT_FOUND",
        DpuStatus.AlreadyExists => "ALREADY_EXISTS",
        DpuStatus.NoResource => "NO_RESOURCE",
        DpuStatus.InvalidArgument => "INVALID_ARGUMENT",
        DpuStatus.InUse => "IN_USE",
        DpuStatus.FailedPrecondition => "FAILED_PRECONDITION",
        DpuStatus.Unsupported => "UNSUPPORTED",
        DpuStatus.Internal => "INTERNAL",
        DpuStatus.Unavailable => "UNAVAILABLE",
        _ => s.ToString(),
    };
}
