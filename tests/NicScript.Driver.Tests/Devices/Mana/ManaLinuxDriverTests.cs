using System.Buffers.Binary;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Mana;
using NicScript.Driver.Devices.Mana.Gdma;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Devices.Mana;

/// <summary>What Linux's own mana driver (Debian 6.1, under QEMU against the VF exported over vfio-user) did where the
/// model first disagreed with it, replayed without a guest so each finding stays covered where no QEMU is installed.</summary>
public sealed class ManaLinuxDriverTests : IDisposable
{
    private readonly Machine _machine;
    private readonly ManaDriver _driver;

    public ManaLinuxDriverTests()
    {
        _machine = DefaultMachine.Create(NoDeviceEvents.Instance);
        DmaOwner owner = _machine.Dma.CreateOwner("test", 16 << 20);
        _driver = new ManaDriver(_machine.Devices.OfType<ManaDevice>().Single().Function, _machine.Dma, owner);
    }

    public void Dispose()
    {
        _driver.Dispose();
        _machine.Dispose();
    }

    [Fact]
    public void Hwc_FirstRequestUsesTheKeyOfTheBootstrapsTwentyFourBitItem_AndIsAnswered()
    {
        // mana_hwc_init_event_handler: HWC_INIT_DATA_GPA_MKEY → hwc->gpa_mkey = type_data.value (bits 0-23); every HWC
        // WQE's SGE carries it. The model once sent a wider key, the driver's first request came with its low bits and
        // went unanswered: "HWC: Request timed out!", probe -110.
        _driver.OpenHwc();
        uint bootstrapKey = _driver.Mkey;

        Span<byte> verify = stackalloc byte[GdmaVerifyVerReqView.WireSize]; // mana_gd_verify_vf_version
        verify.Clear();
        _driver.InitHdr(verify, (uint)GdmaRequestType.VerifyVfDriverVersion, GdmaVerifyVerRespView.WireSize, GdmaDeviceType.None);
        var v = new GdmaVerifyVerReqWriter(verify);
        v.ProtocolVerMin = v.ProtocolVerMax = 1;
        _driver.Request(verify, GdmaVerifyVerRespView.WireSize); // throws when the device leaves it unanswered

        // mana_gd_register_device: gc->gpa_mkey = resp.gpa_mkey, the key of every data SGE: the same key, in full.
        Span<byte> register = stackalloc byte[GdmaGeneralReqView.WireSize];
        register.Clear();
        _driver.InitHdr(register, (uint)GdmaRequestType.RegisterDevice, GdmaRegisterDeviceRespView.WireSize, GdmaDeviceType.Mana);
        GdmaRegisterDeviceRespView.TryRead(_driver.Request(register, GdmaRegisterDeviceRespView.WireSize), out var reg);
        Assert.Equal(reg.GpaMkey, bootstrapKey);
    }

    [Fact]
    public void Hwc_TestEqBeforeRegistering_IsAnsweredAndItsCompletionRaisesAnEventThoughTheCqWasNeverArmed()
    {
        // mana_hwc_test_channel → mana_gd_test_eq: GENERATE_TEST_EQE for the HWC's EQ, before any REGISTER_DEVICE, and
        // the HWC CQ not armed yet (mana_hwc_comp_event arms it after each completion): the response's completion must
        // still post an EQE, or the driver never learns of it. The model once refused the request as unregistered, then
        // left the completion without an event: "HWC: Request timed out!", "test_eq failed: -110".
        _driver.OpenHwc();
        Span<byte> test = stackalloc byte[GdmaGenerateTestEventReqView.WireSize];
        test.Clear();
        _driver.InitHdr(test, (uint)GdmaRequestType.GenerateTestEqe, GdmaGeneralRespView.WireSize, GdmaDeviceType.Hwc);
        new GdmaGenerateTestEventReqWriter(test).QueueIndex = _driver.HwcEqId;

        _driver.Request(test, GdmaGeneralRespView.WireSize); // status 0, or it throws

        var events = new List<(GdmaEqeType Type, uint Detail)>();
        while (ManaDriver.NextEqe(_driver.HwcEqRing, out GdmaEqeType type, out uint detail)) events.Add((type, detail));
        Assert.Contains((GdmaEqeType.TestEvent, 0u), events);
        Assert.Contains((GdmaEqeType.Completion, _driver.HwcCqId), events);
    }

    [Fact]
    public void ConfigVportRx_AskedForResponseV1_IsAnsweredWithTheBareHeaderItAskedFor()
    {
        // mana_cfg_vport_steering (6.1): response version 1, resp_msg_size 32; mana_hwc_verify_resp_msg fails a longer
        // answer with -EPROTO. The model once answered v2's 40 bytes: "Failed to configure vPort RX: -71".
        _driver.BringUp();
        Span<byte> rx = stackalloc byte[ManaCfgRxSteerReqV2View.WireSize];
        rx.Clear();
        _driver.InitHdr(rx, (uint)ManaCommandCode.ConfigVportRx, GdmaRespHdrView.WireSize, GdmaDeviceType.Mana);
        var r = new ManaCfgRxSteerReqV2Writer(rx);
        r.Vport = _driver.Vport;
        r.RxEnable = 1;

        byte[] response = _driver.Request(rx, GdmaRespHdrView.WireSize);

        GdmaRespHdrView.TryRead(response, out GdmaRespHdrView hdr);
        Assert.Equal((1, (uint)GdmaRespHdrView.WireSize), (hdr.ResponseMsgVersion, hdr.ResponseMsgSize));
    }

    [Fact]
    public void FenceRq_AfterSteering_IsAnsweredAndTheRqsCqReportsTheFence()
    {
        // mana_fence_rqs (6.1), after the vPort's steering: MANA_FENCE_RQ per RQ object, then a wait for
        // CQE_RX_OBJECT_FENCE on that RQ's CQ. The model once refused it as unknown: "Failed to fence RQ 0: -71".
        _driver.BringUp();
        ManaQueuePair q = _driver.Queues!;
        Span<byte> fence = stackalloc byte[GdmaReqHdrView.WireSize + 8];
        fence.Clear();
        _driver.InitHdr(fence, (uint)ManaCommandCode.FenceRq, GdmaGeneralRespView.WireSize, GdmaDeviceType.Mana);
        BinaryPrimitives.WriteUInt64LittleEndian(fence[GdmaReqHdrView.WireSize..], q.RqObject);

        _driver.Request(fence, GdmaGeneralRespView.WireSize);

        Assert.Equal(1, q.PollRx(_ => Assert.Fail("a fence is no frame")));
        Assert.Equal((1L, 0L), (q.Fences, q.RxErrors));
    }

    [Fact]
    public void TxCompletion_CarriesClientTypeCompletion_SoTheSendIsCounted()
    {
        // mana_poll_tx_cq (6.1): WARN_ON_ONCE(cqe_hdr.client_type != MANA_CQE_COMPLETION) and return, the send never
        // uncounted; mana_dealloc_queues then waits for pending_sends forever. The model once wrote client_type 0: a
        // WARNING at mana_en.c:1390, and neither poweroff nor hot-unplug could finish.
        _driver.BringUp();
        ManaQueuePair q = _driver.Queues!;
        q.NextTxBuffer()[..60].Fill(0xA5);
        Assert.True(q.Post(60));
        q.Flush();

        Assert.Equal(1, q.PollTx());
        Assert.Equal(0, q.TxErrors);
    }

    [Fact]
    public void ConfigVportRx_DisableWithTheTablesRoomLeftZero_IsAccepted()
    {
        // mana_disable_vport_rx (6.1) on the remove path: rx_enable FALSE, 64 indirection entries announced at offset
        // 120 but update_indir_tab clear and the table zeros. The model once checked the zeros as RQ objects and refused:
        // "Failed to configure vPort RX: -71", then "Failed to detach vPort", "Failed to disable queue".
        _driver.BringUp();
        const int entries = 64;
        byte[] rx = new byte[ManaCfgRxSteerReqV2View.WireSize + 8 * entries];
        _driver.InitHdr(rx, (uint)ManaCommandCode.ConfigVportRx, GdmaRespHdrView.WireSize, GdmaDeviceType.Mana);
        var r = new ManaCfgRxSteerReqV2Writer(rx);
        r.Vport = _driver.Vport;
        r.NumIndirEntries = entries;
        r.IndirTabOffset = ManaCfgRxSteerReqV2View.WireSize;

        _driver.Request(rx, GdmaRespHdrView.WireSize); // status 0, or it throws

        ManaQueuePair q = _driver.Queues!;
        q.NextTxBuffer()[..60].Fill(0xFF); // broadcast, back through the loopback wire: RX is off now
        q.Post(60);
        q.Flush();
        Assert.True(SpinWait.SpinUntil(() => q.PollTx() > 0, TimeSpan.FromSeconds(5)));
        Assert.Equal(0, q.PollRx(_ => { }));
    }

    [Fact]
    public void ArmingWithEverythingSeen_RaisesNoEvent()
    {
        // The driver's head starts at the ring's entry count; arming a CQ or EQ with the head of everything it consumed
        // must not raise an event. The model once compared its own count from 0: every arm raised a COMPLETION with no
        // CQE behind it ("WARNING ... hw_channel.c:333 mana_hwc_comp_event", comp_read 0).
        _driver.BringUp();
        ManaQueuePair q = _driver.Queues!;
        q.NextTxBuffer()[..60].Fill(0xFF);
        q.Post(60);
        q.Flush();
        int received = 0;
        Assert.True(SpinWait.SpinUntil(() =>
        {
            q.ProcessEvents();
            q.PollTx();
            received += q.PollRx(_ => { });
            return received == 1;
        }, TimeSpan.FromSeconds(5)));
        q.ProcessEvents(); // whatever is left, then everything armed with the heads of what was seen

        Assert.Equal(0, q.ProcessEvents());
    }
}
