// mana-bringup.csx — the C# twin of mana-bringup.js: a MANA driver as a script. The emulated VF at 00:1e.1 comes up the
// way the Linux driver brings it up (SHM -> HWC -> version, devices, register, EQ, vPort, SQ/RQ, RX steering) through
// the Gdma codec and the Pci/Dma handles only; then 1000 frames go SQ -> loopback wire -> RQ, every byte checked.
using NicScript.Host.Capabilities;
using F = System.Collections.Generic.Dictionary<string, ulong>;   // GDMA field values by their Linux names
const int Frames = 1000, Burst = 32, PageBytes = 4096, Ring = 16384, Slot = 2048, Slots = 64;
var dev = Pci.Open("00:1e.1");
dev.WriteConfig16(0x04, dev.ReadConfig16(0x04) | 0x6);
int dbBase = (int)dev.ReadBar(0, 0x08, 8), dbSize = (int)dev.ReadBar32(0, 0x10) & 0xffff, shm = (int)dev.ReadBar(0, 0x18, 8);
void RingDb(int page, int slot, string type, F fields) => dev.WriteBarBytes(0, dbBase + page * dbSize + slot, Gdma.EncodeBytes(type, fields));

// 1. ESTABLISH_HWC through the shared-memory aperture.
var (eqB, cqB, rqB, sqB, reqB, respB) = (Dma.Alloc(PageBytes), Dma.Alloc(PageBytes), Dma.Alloc(PageBytes), Dma.Alloc(PageBytes), Dma.Alloc(PageBytes), Dma.Alloc(PageBytes));
var msg = Dma.Alloc(32);
var queues = new[] { eqB, cqB, rqB, sqB };
for (int i = 0; i < 4; i++)
{
    ulong frame = (ulong)queues[i].Iova / PageBytes;
    msg.WriteU32(6 * i, frame & 0xffffffff);
    msg.WriteU16(6 * i + 4, (int)(frame >> 32) & 0xffff);
}
msg.Write(28, Gdma.EncodeBytes("smc_proto_hdr", new F { ["msg_type"] = 1 }));
for (int i = 0; i < 8; i++) dev.WriteBar32(0, shm + 4 * i, msg.ReadU32(4 * i));
byte[] answer = Gdma.EncodeBytes("smc_proto_hdr", new F { ["msg_type"] = 1, ["direction"] = 1 });
if ((uint)dev.ReadBar32(0, shm + 28) != BitConverter.ToUInt32(answer)) throw new Exception("ESTABLISH_HWC refused");

(int Type, uint Detail)? NextEqe(DmaBuffer eq, ref long head, int n)
{
    int off = (int)(head % n) * 16;
    if ((uint)eq.ReadU32(off + 12) >> 29 != (uint)(head / n % 8)) return null;   // owner bits first
    var info = Gdma.Decode(eq, off + 12, "gdma_eqe_info");
    head++;
    return ((int)info["type"], (uint)eq.ReadU32(off));
}
long hwcEqHead = 256;
var init = new Dictionary<uint, uint>();
bool done = false;
for (var e = NextEqe(eqB, ref hwcEqHead, 256); e is { } ev; e = NextEqe(eqB, ref hwcEqHead, 256))
{
    if (ev.Type == 130) init[ev.Detail >> 24] = ev.Detail & 0xffffff;
    if (ev.Type == 131) done = true;
}
if (!done) throw new Exception("no HWC_INIT_DONE");
uint cqId = init[1], rqId = init[2], sqId = init[3];
Log.Info("HWC up: CQ {Cq} RQ {Rq} SQ {Sq}, depth {Depth}", cqId, rqId, sqId, init[4]);

// 2. Requests over the HWC.
ulong mkey = init[9];   // the GPA memory key, as the bootstrap's 24-bit item gave it (Linux takes it so)
uint sqTail = 0, rqTail = 0, msgId = 0, activity = 0;
long hwcCqHead = 64;
void PostHwcRq()
{
    int at = (int)(rqTail % PageBytes);
    Gdma.Encode(rqB, at, "gdma_wqe", new F { ["num_sge"] = 1, ["inline_oob_size_div4"] = 2 });
    rqB.WriteU64(at + 8, 0);
    Gdma.Encode(rqB, at + 16, "gdma_sge", new F { ["address"] = (ulong)respB.Iova, ["mem_key"] = mkey, ["size"] = PageBytes });
    rqTail += 32;
    RingDb(0, 0x400, "gdma_doorbell_entry.rq", new F { ["id"] = rqId, ["tail_ptr"] = rqTail });
}
(int Off, bool Sq)? NextCqe(DmaBuffer cq, ref long head, int n)
{
    int off = (int)(head % n) * 64;
    var cqe = Gdma.Decode(cq, off, "gdma_cqe");
    if (cqe["cqe_info.owner_bits"] != head / n % 8) return null;
    head++;
    return (off, cqe["cqe_info.is_sq"] == 1);
}
GdmaFields Send(int size, uint code, string respType)
{
    int at = (int)(sqTail % PageBytes);
    Gdma.Encode(sqB, at, "gdma_wqe", new F { ["num_sge"] = 1, ["inline_oob_size_div4"] = 6 });
    Gdma.Encode(sqB, at + 8, "hwc_tx_oob", new F { ["vscq_id"] = cqId, ["vsq_id"] = sqId });
    Gdma.Encode(sqB, at + 32, "gdma_sge", new F { ["address"] = (ulong)reqB.Iova, ["mem_key"] = mkey, ["size"] = (ulong)size });
    sqTail += 64;
    RingDb(0, 0x000, "gdma_doorbell_entry.sq", new F { ["id"] = sqId, ["tail_ptr"] = sqTail });
    for (var c = NextCqe(cqB, ref hwcCqHead, 64); c is { } cqe; c = NextCqe(cqB, ref hwcCqHead, 64))
    {
        if (cqe.Sq) continue;
        var oob = Gdma.Decode(cqB, cqe.Off, "hwc_rx_oob");
        bool full = respType != "gdma_general_resp" && oob["tx_oob_data_size"] >= Gdma.Size(respType);
        var resp = Gdma.Decode(respB, 0, full ? respType : "gdma_resp_hdr");
        PostHwcRq();
        double status = resp[full ? "hdr.status" : "status"];
        if (status != 0) throw new Exception($"request 0x{code:x} refused: status 0x{(ulong)status:x}");
        if (resp[full ? "hdr.response.hwc_msg_id" : "response.hwc_msg_id"] != msgId) throw new Exception("answer to another message");
        return resp;
    }
    throw new Exception($"no answer to request 0x{code:x}");
}
GdmaFields Request(string type, uint code, string respType, F body, uint version = 1)
{
    var fields = new F(body)
    {
        ["hdr.req.msg_type"] = code, ["hdr.req.msg_version"] = version, ["hdr.req.hwc_msg_id"] = ++msgId, ["hdr.req.msg_size"] = (ulong)Gdma.Size(type),
        ["hdr.resp.msg_type"] = code, ["hdr.resp.msg_version"] = version, ["hdr.resp.msg_size"] = (ulong)Gdma.Size(respType),
        ["hdr.dev_id.type"] = code >= 4 ? 2UL : 0, ["hdr.activity_id"] = code > 0x20000 ? ++activity : 0,
    };
    reqB.Fill(0);
    Gdma.Encode(reqB, 0, type, fields);
    return Send(Gdma.Size(type), code, respType);
}
PostHwcRq();
var ver = Request("gdma_verify_ver_req", 1, "gdma_verify_ver_resp", new F { ["protocol_ver_min"] = 1, ["protocol_ver_max"] = 1, ["os_type"] = 0x10 });
var devs = Request("gdma_general_req", 3, "gdma_list_devices_resp", new F());
bool mana = false;
for (int i = 0; i < devs["num_of_devs"]; i++) mana |= devs[$"devs[{i}].type"] == 2;
if (!mana) throw new Exception("no MANA device in the list");
var res = Request("gdma_general_req", 2, "gdma_query_max_resources_resp", new F());
var reg = Request("gdma_general_req", 4, "gdma_register_device_resp", new F());
ulong pdid = (ulong)reg["pdid"];
int dbId = (int)reg["db_id"];
mkey = (ulong)reg["gpa_mkey"];
var cfg = Request("mana_query_device_cfg_req", 0x20001, "mana_query_device_cfg_resp", new F { ["proto_minor_ver"] = 1, ["proto_micro_ver"] = 1 });
Log.Info("GDMA protocol {Ver}; {Msix} MSI-X; pd {Pd}, doorbell page {Db}; MTU {Mtu}", ver["gdma_protocol_ver"], res["max_msix"], pdid, dbId, cfg["adapter_mtu"]);

ulong Region(DmaBuffer buf)
{
    int pages = buf.Length / PageBytes, size = Gdma.Size("gdma_create_dma_region_req");
    reqB.Fill(0);
    Gdma.Encode(reqB, 0, "gdma_create_dma_region_req", new F
    {
        ["hdr.req.msg_type"] = 25, ["hdr.req.msg_version"] = 1, ["hdr.req.hwc_msg_id"] = ++msgId, ["hdr.req.msg_size"] = (ulong)(size + 8 * pages),
        ["hdr.resp.msg_type"] = 25, ["hdr.resp.msg_version"] = 1, ["hdr.resp.msg_size"] = 40, ["hdr.dev_id.type"] = 2,
        ["length"] = (ulong)buf.Length, ["page_count"] = (ulong)pages, ["page_addr_list_len"] = (ulong)pages,
    });
    for (int p = 0; p < pages; p++) reqB.WriteU64(size + 8 * p, buf.Iova + p * PageBytes);
    return (ulong)Send(size + 8 * pages, 25, "gdma_create_dma_region_resp")["dma_region_handle"];
}

// 3. A data EQ, checked with a test event.
var eqBuf = Dma.Alloc(PageBytes);
ulong eqId = (ulong)Request("gdma_create_queue_req", 12, "gdma_create_queue_resp", new F
{
    ["type"] = 4, ["pdid"] = pdid, ["doolbell_id"] = (ulong)dbId, ["gdma_region"] = Region(eqBuf), ["queue_size"] = PageBytes, ["eq_pci_msix_index"] = 1,
})["queue_index"];
long eqHead = 256;
Request("gdma_generate_test_event_req", 10, "gdma_general_resp", new F { ["queue_index"] = eqId });
if (NextEqe(eqBuf, ref eqHead, 256) is not { Type: 64 }) throw new Exception("no TEST_EVENT");

// 4. The vPort, an SQ and an RQ with their CQs, RX steering to the RQ.
var vp = Request("mana_query_vport_cfg_req", 0x20008, "mana_query_vport_cfg_resp", new F { ["vport_index"] = 0 });
ulong vport = (ulong)vp["vport"];
var mac = Enumerable.Range(0, 6).Select(i => (byte)vp[$"mac_addr[{i}]"]).ToArray();
Request("mana_config_vport_req", 0x20003, "mana_config_vport_resp", new F { ["vport"] = vport, ["pdid"] = pdid, ["doorbell_pageid"] = (ulong)dbId });
(DmaBuffer Wq, DmaBuffer Cq, uint Id, uint CqId, ulong Obj) WqObj(uint wqType)
{
    var wq = Dma.Alloc(Ring);
    var cq = Dma.Alloc(2 * Ring);
    var r = Request("mana_create_wqobj_req", 0x20004, "mana_create_wqobj_resp", new F
    {
        ["vport"] = vport, ["wq_type"] = wqType, ["wq_gdma_region"] = Region(wq), ["cq_gdma_region"] = Region(cq),
        ["wq_size"] = Ring, ["cq_size"] = 2 * Ring, ["cq_parent_qid"] = eqId,
    });
    return (wq, cq, (uint)r["wq_id"], (uint)r["cq_id"], (ulong)r["wq_obj"]);
}
var sq = WqObj(1);
var rq = WqObj(2);
Request("mana_cfg_rx_steer_req_v2", 0x20007, "mana_cfg_rx_steer_resp", new F { ["vport"] = vport, ["rx_enable"] = 1, ["update_default_rxobj"] = 1, ["default_rxobj"] = rq.Obj }, 2);
Log.Info("vPort MAC {Mac}: SQ {Sq}, RQ {Rq}, EQ {Eq}", string.Join(":", mac.Select(b => b.ToString("x2"))), sq.Id, rq.Id, eqId);

// 5. Traffic in bursts of 32, one doorbell per burst, every byte checked.
var txBuf = Dma.Alloc(Slot * Slots);
var rxBuf = Dma.Alloc(Slot * Slots);
uint sqT = 0, rqT = 0;
long sqCqHead = 2 * Ring / 64, rqCqHead = 2 * Ring / 64;
int cqN = 2 * Ring / 64;
void PostRx(int slot)
{
    int at = (int)(rqT % Ring);
    Gdma.Encode(rq.Wq, at, "gdma_wqe", new F { ["num_sge"] = 1, ["inline_oob_size_div4"] = 2 });
    Gdma.Encode(rq.Wq, at + 16, "gdma_sge", new F { ["address"] = (ulong)(rxBuf.Iova + slot * Slot), ["mem_key"] = mkey, ["size"] = Slot });
    rqT += 32;
}
void ArmCqs()
{
    RingDb(dbId, 0x800, "gdma_doorbell_entry.cq", new F { ["id"] = sq.CqId, ["tail_ptr"] = (ulong)(sqCqHead % (cqN * 8)), ["arm"] = 1 });
    RingDb(dbId, 0x800, "gdma_doorbell_entry.cq", new F { ["id"] = rq.CqId, ["tail_ptr"] = (ulong)(rqCqHead % (cqN * 8)), ["arm"] = 1 });
}
for (int s = 0; s < Slots; s++) PostRx(s);
RingDb(dbId, 0x400, "gdma_doorbell_entry.rq", new F { ["id"] = rq.Id, ["tail_ptr"] = rqT });
ArmCqs();
byte[] FrameOf(int seq, int len)
{
    var f = new byte[len];
    mac.CopyTo(f, 0);
    mac.CopyTo(f, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    for (int i = 14; i < len; i++) f[i] = (byte)(seq * 7 + i);
    return f;
}
int sent = 0, received = 0, txErrors = 0, events = 0, bad = 0;
var lengths = new List<int>();
while (received < Frames)
{
    int burst = Math.Min(Burst, Math.Min(Frames - sent, Slots - (sent - received)));
    for (int b = 0; b < burst; b++, sent++)
    {
        int len = 60 + sent * 37 % 200, slot = sent % Slots, at = (int)(sqT % Ring);
        txBuf.Write(slot * Slot, FrameOf(sent, len));
        Gdma.Encode(sq.Wq, at, "gdma_wqe", new F { ["num_sge"] = 1, ["inline_oob_size_div4"] = 2 });
        Gdma.Encode(sq.Wq, at + 8, "mana_tx_short_oob", new F { ["vcq_num"] = sq.CqId, ["vsq_frame"] = (sq.Id >> 10) & 0x3fff });
        Gdma.Encode(sq.Wq, at + 16, "gdma_sge", new F { ["address"] = (ulong)(txBuf.Iova + slot * Slot), ["mem_key"] = mkey, ["size"] = (ulong)len });
        sqT += 32;
        lengths.Add(len);
    }
    if (burst > 0) RingDb(dbId, 0x000, "gdma_doorbell_entry.sq", new F { ["id"] = sq.Id, ["tail_ptr"] = sqT });
    for (var e = NextEqe(eqBuf, ref eqHead, 256); e is { } ev; e = NextEqe(eqBuf, ref eqHead, 256)) if (ev.Type == 3) events++;
    RingDb(dbId, 0xff8, "gdma_doorbell_entry.eq", new F { ["id"] = eqId, ["tail_ptr"] = (ulong)(eqHead % (256 * 8)), ["arm"] = 1 });
    for (var c = NextCqe(sq.Cq, ref sqCqHead, cqN); c is { } cqe; c = NextCqe(sq.Cq, ref sqCqHead, cqN))
        if (Gdma.Decode(sq.Cq, cqe.Off, "mana_tx_comp_oob")["cqe_hdr.cqe_type"] != 32) txErrors++;
    int reposted = 0;
    for (var c = NextCqe(rq.Cq, ref rqCqHead, cqN); c is { } cqe; c = NextCqe(rq.Cq, ref rqCqHead, cqN))
    {
        var rx = Gdma.Decode(rq.Cq, cqe.Off, "mana_rxcomp_oob");
        int slot = (int)(rx["rx_wqe_offset"] / 32) % Slots, len = (int)rx["ppi[0].pkt_len"];
        if (rx["cqe_hdr.cqe_type"] != 1 || !rxBuf.Read(slot * Slot, len).AsSpan().SequenceEqual(FrameOf(received, lengths[received]))) bad++;
        received++;
        PostRx(slot);
        reposted++;
    }
    if (reposted > 0) RingDb(dbId, 0x400, "gdma_doorbell_entry.rq", new F { ["id"] = rq.Id, ["tail_ptr"] = rqT });
    ArmCqs();
}
Log.Info("sent {Sent}, received {Received}, corrupted {Bad}, TX errors {TxErrors}, completion events {Events}", sent, received, bad, txErrors, events);
Metrics.Inc("mana_frames_checked", received - bad);
if (bad != 0 || txErrors != 0) throw new Exception($"{bad} frames corrupted, {txErrors} TX errors");
