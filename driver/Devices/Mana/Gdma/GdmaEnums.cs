namespace NicScript.Driver.Devices.Mana.Gdma;

/// <summary>Which closed set a field's value must belong to (gdma.md §7); <see cref="Any"/> is an open space.</summary>
public enum GdmaRule : byte
{
    Any,
    /// <summary>Must be zero; never a JSON key.</summary>
    Reserved,
    /// <summary><c>gdma_request_type</c> ∪ <c>mana_command_code</c>, on request-side message headers.</summary>
    Req,
    Dev,
    Eqe,
    Cqe,
    Queue,
    PktFmt,
}

/// <summary><c>enum gdma_request_type</c> (include/net/mana/gdma.h).</summary>
internal enum GdmaRequestType : uint
{
    VerifyVfDriverVersion = 1,
    QueryMaxResources = 2,
    ListDevices = 3,
    RegisterDevice = 4,
    DeregisterDevice = 5,
    GenerateTestEqe = 10,
    CreateQueue = 12,
    DisableQueue = 13,
    AllocateResourceRange = 22,
    DestroyResourceRange = 24,
    CreateDmaRegion = 25,
    DmaRegionAddPages = 26,
    DestroyDmaRegion = 27,
    CreatePd = 29,
    DestroyPd = 30,
    CreateMr = 31,
    DestroyMr = 32,
    QueryHwcTimeout = 84,
    AllocDm = 96,
    DestroyDm = 97,
}

/// <summary><c>enum mana_command_code</c> (include/net/mana/mana.h).</summary>
internal enum ManaCommandCode : uint
{
    QueryDevConfig = 0x20001,
    QueryGfStat = 0x20002,
    ConfigVportTx = 0x20003,
    CreateWqObj = 0x20004,
    DestroyWqObj = 0x20005,
    FenceRq = 0x20006,
    ConfigVportRx = 0x20007,
    QueryVportConfig = 0x20008,
    QueryLinkConfig = 0x2000A,
    SetBwClamp = 0x2000B,
    QueryPhyStat = 0x2000C,
    RegisterFilter = 0x28000,
    DeregisterFilter = 0x28001,
    RegisterHwPort = 0x28003,
    DeregisterHwPort = 0x28004,
}

/// <summary>The device types of <c>gdma_dev_id.type</c>.</summary>
internal enum GdmaDeviceType : ushort
{
    None = 0,
    Hwc = 1,
    Mana = 2,
    ManaIb = 3,
}

/// <summary><c>enum gdma_eqe_type</c>.</summary>
internal enum GdmaEqeType : byte
{
    Completion = 3,
    TestEvent = 64,
    HwcInitEqIdDb = 129,
    HwcInitData = 130,
    HwcInitDone = 131,
    HwcFpgaReconfig = 132,
    HwcSocReconfigData = 133,
    HwcSocService = 134,
    HwcResetRequest = 135,
    RnicQpFatal = 176,
}

/// <summary><c>enum mana_cqe_type</c>.</summary>
internal enum ManaCqeType : byte
{
    Invalid = 0,
    RxOkay = 1,
    RxCoalesced4 = 2,
    RxObjectFence = 3,
    RxTruncated = 4,
    TxOkay = 32,
    TxSaDrop = 33,
    TxMtuDrop = 34,
    TxInvalidOob = 35,
    TxInvalidEthType = 36,
    TxHdrProcessingError = 37,
    TxVfDisabled = 38,
    TxVportIdxOutOfRange = 39,
    TxVportDisabled = 40,
    TxVlanTaggingViolation = 41,
}

/// <summary><c>enum gdma_queue_type</c> (5 = GDMA_DIM is later than the basis and is not a member).</summary>
public enum GdmaQueueType : uint
{
    Invalid = 0,
    Sq = 1,
    Rq = 2,
    Cq = 3,
    Eq = 4,
}

/// <summary><c>enum mana_tx_pkt_format</c>.</summary>
internal enum ManaTxPktFormat : byte
{
    Short = 0,
    Long = 1,
}

/// <summary>Membership tests of the closed sets, allocation-free.</summary>
internal static class GdmaSets
{
    public static bool Contains(GdmaRule rule, ulong v) => rule switch
    {
        GdmaRule.Req => v is 1 or 2 or 3 or 4 or 5 or 10 or 12 or 13 or 22 or 24 or 25 or 26 or 27 or 29 or 30 or 31 or 32 or 84 or 96 or 97
            or (>= 0x20001 and <= 0x20008) or 0x2000A or 0x2000B or 0x2000C or 0x28000 or 0x28001 or 0x28003 or 0x28004,
        GdmaRule.Dev => v <= 3,
        GdmaRule.Eqe => v is 3 or 64 or (>= 129 and <= 135) or 176,
        GdmaRule.Cqe => v is <= 4 or (>= 32 and <= 41),
        GdmaRule.Queue => v <= 4,
        GdmaRule.PktFmt => v <= 1,
        GdmaRule.Reserved => v == 0,
        _ => true,
    };

    /// <summary>The set's name as the error message says it: <c>0 is not a gdma_eqe_type</c>.</summary>
    public static string Name(GdmaRule rule) => rule switch
    {
        GdmaRule.Req => "gdma_request_type or mana_command_code",
        GdmaRule.Dev => "gdma device type (0-3)",
        GdmaRule.Eqe => "gdma_eqe_type",
        GdmaRule.Cqe => "mana_cqe_type",
        GdmaRule.Queue => "gdma_queue_type",
        GdmaRule.PktFmt => "mana_tx_pkt_format",
        _ => "value",
    };
}
