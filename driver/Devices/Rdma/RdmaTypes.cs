#pragma warning disable CA1707 // the seed's and rdma-core's spellings are the contract (reference/rdma.md §2.1)
namespace NicScript.Driver.Devices.Rdma;

/// <summary>Access flags (<c>ibv_access_flags</c>).</summary>
public static class RdmaAccess
{
    public const int LOCAL_WRITE = 1, REMOTE_WRITE = 2, REMOTE_READ = 4, REMOTE_ATOMIC = 8, All = 0xF;
}

/// <summary>Completion statuses (<c>ibv_wc_status</c>).</summary>
public static class RdmaWcStatus
{
    public const int SUCCESS = 0, LOC_LEN_ERR = 1, LOC_QP_OP_ERR = 2, LOC_EEC_OP_ERR = 3, LOC_PROT_ERR = 4, WR_FLUSH_ERR = 5, MW_BIND_ERR = 6,
        BAD_RESP_ERR = 7, LOC_ACCESS_ERR = 8, REM_INV_REQ_ERR = 9, REM_ACCESS_ERR = 10, REM_OP_ERR = 11, RETRY_EXC_ERR = 12,
        RNR_RETRY_EXC_ERR = 13, LOC_RDD_VIOL_ERR = 14, REM_INV_RD_REQ_ERR = 15, REM_ABORT_ERR = 16, INV_EECN_ERR = 17,
        INV_EEC_STATE_ERR = 18, FATAL_ERR = 19, RESP_TIMEOUT_ERR = 20, GENERAL_ERR = 21;
}

/// <summary>Completion opcodes (<c>ibv_wc_opcode</c>).</summary>
public static class RdmaWcOpcode
{
    public const int SEND = 0, RDMA_WRITE = 1, RDMA_READ = 2, COMP_SWAP = 3, FETCH_ADD = 4, BIND_MW = 5, LOCAL_INV = 6, TSO = 7, FLUSH = 8,
        ATOMIC_WRITE = 9, RECV = 128, RECV_RDMA_WITH_IMM = 129;
}

/// <summary>QP states (<c>ibv_qp_state</c>).</summary>
public static class RdmaQpState
{
    public const int RESET = 0, INIT = 1, RTR = 2, RTS = 3, SQD = 4, SQE = 5, ERR = 6;
}

/// <summary>One completion (<c>struct rdma_wc</c>).</summary>
public struct RdmaCompletion
{
    public long WrId;
    public int Status;
    public int Opcode;
    public ulong ByteLen;
    internal long Seq;
}

/// <summary>The last synchronous failure of a script's RDMA call: errno name, reason id, message (reference §2.9).</summary>
public sealed record RdmaError([property: ScriptApi] string Errno, [property: ScriptApi] string Reason, [property: ScriptApi] string Message)
{
    public override string ToString() => $"{Reason} ({Errno}): {Message}";
}

/// <summary>Options of <c>rdma_connect_ex</c>; null fields keep the defaults of reference §3.6.</summary>
public sealed class RdmaConnectOptions
{
    [ScriptApi] public RdmaConnectOptions()
    {
    }

    [ScriptApi] public int? PathMtu { get; set; }
    [ScriptApi] public long? SqPsn { get; set; }
    [ScriptApi] public long? RqPsn { get; set; }
    [ScriptApi] public int? RetryCnt { get; set; }
    [ScriptApi] public int? RnrRetry { get; set; }
    [ScriptApi] public int? MinRnrTimer { get; set; }
    [ScriptApi] public int? Timeout { get; set; }
}

/// <summary>What <c>rdma_query_mr</c> fills.</summary>
public sealed record RdmaMrInfo([property: ScriptApi] ulong Addr, [property: ScriptApi] ulong Length, [property: ScriptApi] uint Lkey,
    [property: ScriptApi] uint Rkey, [property: ScriptApi] int Access);
