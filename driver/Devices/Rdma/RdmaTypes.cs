#pragma warning disable CA1707 // the seed's and rdma-core's spellings are the contract (reference/rdma.md §2.1)
namespace NicScript.Driver.Devices.Rdma;

/// <summary>Access flags (<c>ibv_access_flags</c>).</summary>
/// <remarks>The constants here are named as the seed's C names them, prefix included (<c>RDMA_ACCESS_LOCAL_WRITE</c>, as
/// rdma-core's <c>IBV_ACCESS_LOCAL_WRITE</c>): the one spelling, so a port of the seed's code reads the same.</remarks>
public static class RdmaAccess
{
    public const int RDMA_ACCESS_LOCAL_WRITE = 1, RDMA_ACCESS_REMOTE_WRITE = 2, RDMA_ACCESS_REMOTE_READ = 4, RDMA_ACCESS_REMOTE_ATOMIC = 8;

    /// <summary>Every flag; <c>rdma_reg_mr</c> refuses an access with a bit outside it. Not one of the seed's constants.</summary>
    internal const int All = 0xF;
}

/// <summary>Completion statuses (<c>ibv_wc_status</c>).</summary>
public static class RdmaWcStatus
{
    public const int RDMA_WC_SUCCESS = 0, RDMA_WC_LOC_LEN_ERR = 1, RDMA_WC_LOC_QP_OP_ERR = 2, RDMA_WC_LOC_EEC_OP_ERR = 3, RDMA_WC_LOC_PROT_ERR = 4,
        RDMA_WC_WR_FLUSH_ERR = 5, RDMA_WC_MW_BIND_ERR = 6, RDMA_WC_BAD_RESP_ERR = 7, RDMA_WC_LOC_ACCESS_ERR = 8, RDMA_WC_REM_INV_REQ_ERR = 9,
        RDMA_WC_REM_ACCESS_ERR = 10, RDMA_WC_REM_OP_ERR = 11, RDMA_WC_RETRY_EXC_ERR = 12, RDMA_WC_RNR_RETRY_EXC_ERR = 13,
        RDMA_WC_LOC_RDD_VIOL_ERR = 14, RDMA_WC_REM_INV_RD_REQ_ERR = 15, RDMA_WC_REM_ABORT_ERR = 16, RDMA_WC_INV_EECN_ERR = 17,
        RDMA_WC_INV_EEC_STATE_ERR = 18, RDMA_WC_FATAL_ERR = 19, RDMA_WC_RESP_TIMEOUT_ERR = 20, RDMA_WC_GENERAL_ERR = 21;
}

/// <summary>Completion opcodes (<c>ibv_wc_opcode</c>).</summary>
public static class RdmaWcOpcode
{
    public const int RDMA_WC_SEND = 0, RDMA_WC_RDMA_WRITE = 1, RDMA_WC_RDMA_READ = 2, RDMA_WC_COMP_SWAP = 3, RDMA_WC_FETCH_ADD = 4,
        RDMA_WC_BIND_MW = 5, RDMA_WC_LOCAL_INV = 6, RDMA_WC_TSO = 7, RDMA_WC_FLUSH = 8, RDMA_WC_ATOMIC_WRITE = 9, RDMA_WC_RECV = 128,
        RDMA_WC_RECV_RDMA_WITH_IMM = 129;
}

/// <summary>QP states (<c>ibv_qp_state</c>).</summary>
public static class RdmaQpState
{
    public const int RDMA_QPS_RESET = 0, RDMA_QPS_INIT = 1, RDMA_QPS_RTR = 2, RDMA_QPS_RTS = 3, RDMA_QPS_SQD = 4, RDMA_QPS_SQE = 5, RDMA_QPS_ERR = 6;
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
