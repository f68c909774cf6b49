// mana-bringup.js — a MANA driver written as a script: bring the emulated VF at 00:1e.1 up the way the Linux driver
// does (gdma_main.c, hw_channel.c, mana_en.c), through the gdma codec and the pci/dma handles only, then pass frames
// SQ -> loopback wire -> RQ and check every byte. The C# twin is mana-bringup.csx.
const FRAMES = 1000, BURST = 32, PAGE = 4096;
const dev = pci.open("00:1e.1");
dev.writeConfig16(0x04, dev.readConfig16(0x04) | 0x6);                       // memory space + bus master
const dbBase = dev.readBar(0, 0x08, 8), dbSize = dev.readBar32(0, 0x10) & 0xffff, shm = dev.readBar(0, 0x18, 8);
log.info("MANA VF {Vendor}:{Device}: doorbell pages at {Db} ({Size} bytes), SHM at {Shm}",
  dev.vendorId.toString(16), dev.deviceId.toString(16), dbBase, dbSize, shm);
const ring = (page, slot, type, fields) => dev.writeBarBytes(0, dbBase + page * dbSize + slot, gdma.encodeBytes(type, fields));

// ---- 1. shared memory: ESTABLISH_HWC with the four HWC queue pages (gdma.md §3) ----------------------------------
const hwc = { eq: dma.alloc(PAGE), cq: dma.alloc(PAGE), rq: dma.alloc(PAGE), sq: dma.alloc(PAGE), req: dma.alloc(PAGE), resp: dma.alloc(PAGE) };
if (dev.readBar32(0, shm + 28) >= 0x80000000) throw new Error("SHM aperture owned by the device");
const msg = dma.alloc(32);
[hwc.eq, hwc.cq, hwc.rq, hwc.sq].forEach((q, i) => {
  const frame = q.iova / PAGE;
  msg.writeU32(6 * i, frame % 0x100000000);
  msg.writeU16(6 * i + 4, Math.floor(frame / 0x100000000) & 0xffff);
});
msg.write(28, gdma.encodeBytes("smc_proto_hdr", { msg_type: 1 }));           // ESTABLISH_HWC, request
for (let i = 0; i < 8; i++) dev.writeBar32(0, shm + 4 * i, msg.readU32(4 * i));
const answer = gdma.encodeBytes("smc_proto_hdr", { msg_type: 1, direction: 1 });
const reply = dev.readBar32(0, shm + 28);
if (reply !== (answer[0] | answer[1] << 8)) throw new Error("ESTABLISH_HWC refused: 0x" + reply.toString(16));

// Bootstrap events on the HWC EQ: owner bits say which entries are new (head starts at the entry count).
const eqHead = { eq: hwc.eq, n: 256, head: 256 };
function nextEqe(q) {
  const off = (q.head % q.n) * 16;
  if (q.eq.readU32(off + 12) >>> 29 !== Math.floor(q.head / q.n) % 8) return null;   // owner bits first: not new yet
  const info = gdma.decode(q.eq, off + 12, "gdma_eqe_info");
  q.head++;
  return { type: info.get("type"), detail: q.eq.readU32(off) };
}
const init = {};
for (let e = nextEqe(eqHead); e; e = nextEqe(eqHead)) {
  if (e.type === 129) init.eqId = e.detail & 0xffff;
  if (e.type === 130) init[e.detail >>> 24] = e.detail & 0xffffff;            // 1 CQ, 2 RQ, 3 SQ, 4 depth, ... 9 mkey
  if (e.type === 131) init.done = true;
}
if (!init.done) throw new Error("no HWC_INIT_DONE");
const cqId = init[1], rqId = init[2], sqId = init[3];
log.info("HWC up: EQ {Eq} CQ {Cq} RQ {Rq} SQ {Sq}, depth {Depth}", init.eqId, cqId, rqId, sqId, init[4]);

// ---- 2. requests over the HWC (gdma.md §4) ----------------------------------------------------------------------
let mkey = init[9], sqTail = 0, rqTail = 0, msgId = 0, activity = 0;
const hwcCq = { buf: hwc.cq, n: 64, head: 64 };
function postHwcRq() {
  gdma.encode(hwc.rq, rqTail % PAGE, "gdma_wqe", { num_sge: 1, inline_oob_size_div4: 2 });
  hwc.rq.write(rqTail % PAGE + 8, [0, 0, 0, 0, 0, 0, 0, 0]);
  gdma.encode(hwc.rq, rqTail % PAGE + 16, "gdma_sge", { address: hwc.resp.iova, mem_key: mkey, size: PAGE });
  rqTail += 32;
  ring(0, 0x400, "gdma_doorbell_entry.rq", { id: rqId, tail_ptr: rqTail });
}
function nextCqe(q) {
  const off = (q.head % q.n) * 64;
  const cqe = gdma.decode(q.buf, off, "gdma_cqe");
  if (cqe.get("cqe_info.owner_bits") !== Math.floor(q.head / q.n) % 8) return null;
  q.head++;
  return { off, sq: cqe.get("cqe_info.is_sq") === 1, wq: cqe.get("cqe_info.wq_num") };
}
function request(type, code, respType, body, version) {
  const size = gdma.size(type), expect = gdma.size(respType);
  const fields = Object.assign({
    "hdr.req.msg_type": code, "hdr.req.msg_version": version || 1, "hdr.req.hwc_msg_id": ++msgId, "hdr.req.msg_size": size,
    "hdr.resp.msg_type": code, "hdr.resp.msg_version": version || 1, "hdr.resp.msg_size": expect,
    "hdr.dev_id.type": code >= 4 ? 2 : 0, "hdr.activity_id": code > 0x20000 ? ++activity : 0 }, body);
  hwc.req.fill(0);
  gdma.encode(hwc.req, 0, type, fields);
  return send(size, code, respType);
}
function send(size, code, respType) {
  const at = sqTail % PAGE;
  gdma.encode(hwc.sq, at, "gdma_wqe", { num_sge: 1, inline_oob_size_div4: 6 });
  gdma.encode(hwc.sq, at + 8, "hwc_tx_oob", { vscq_id: cqId, vsq_id: sqId });
  gdma.encode(hwc.sq, at + 32, "gdma_sge", { address: hwc.req.iova, mem_key: mkey, size: size });
  sqTail += 64;
  ring(0, 0x000, "gdma_doorbell_entry.sq", { id: sqId, tail_ptr: sqTail });
  for (let c = nextCqe(hwcCq); c; c = nextCqe(hwcCq)) {
    if (c.sq) continue;
    const oob = gdma.decode(hwc.cq, c.off, "hwc_rx_oob");
    const resp = gdma.decode(hwc.resp, 0, respType === "gdma_general_resp" || oob.get("tx_oob_data_size") < gdma.size(respType) ? "gdma_resp_hdr" : respType);
    postHwcRq();
    const status = resp.get(resp.type === "gdma_resp_hdr" ? "status" : "hdr.status");
    if (status !== 0) throw new Error("request 0x" + code.toString(16) + " refused: status 0x" + status.toString(16));
    if (resp.get(resp.type === "gdma_resp_hdr" ? "response.hwc_msg_id" : "hdr.response.hwc_msg_id") !== msgId) throw new Error("answer to another message");
    return resp;
  }
  throw new Error("no answer to request 0x" + code.toString(16));
}
postHwcRq();

const ver = request("gdma_verify_ver_req", 1, "gdma_verify_ver_resp", { protocol_ver_min: 1, protocol_ver_max: 1, os_type: 0x10 });
const devs = request("gdma_general_req", 3, "gdma_list_devices_resp", {});
let manaFound = false;
for (let i = 0; i < devs.get("num_of_devs"); i++) manaFound = manaFound || devs.get("devs[" + i + "].type") === 2;
if (!manaFound) throw new Error("no MANA device in the list");
const res = request("gdma_general_req", 2, "gdma_query_max_resources_resp", {});
const reg = request("gdma_general_req", 4, "gdma_register_device_resp", {});
const pdid = reg.get("pdid"), dbId = reg.get("db_id");
mkey = reg.get("gpa_mkey");
const cfg = request("mana_query_device_cfg_req", 0x20001, "mana_query_device_cfg_resp", { proto_minor_ver: 1, proto_micro_ver: 1 });
log.info("GDMA protocol {Ver}; {Sq} SQs, {Msix} MSI-X; registered: pd {Pd}, doorbell page {Db}; MTU {Mtu}",
  ver.get("gdma_protocol_ver"), res.get("max_sq"), res.get("max_msix"), pdid, dbId, cfg.get("adapter_mtu"));

function region(buf) {
  const pages = buf.length / PAGE, fields = { length: buf.length, page_count: pages, page_addr_list_len: pages };
  const size = gdma.size("gdma_create_dma_region_req");
  hwc.req.fill(0);
  gdma.encode(hwc.req, 0, "gdma_create_dma_region_req", Object.assign({
    "hdr.req.msg_type": 25, "hdr.req.msg_version": 1, "hdr.req.hwc_msg_id": ++msgId, "hdr.req.msg_size": size + 8 * pages,
    "hdr.resp.msg_type": 25, "hdr.resp.msg_version": 1, "hdr.resp.msg_size": 40, "hdr.dev_id.type": 2 }, fields));
  for (let p = 0; p < pages; p++) hwc.req.writeU64(size + 8 * p, buf.iova + p * PAGE);
  return send(size + 8 * pages, 25, "gdma_create_dma_region_resp").get("dma_region_handle");
}

// ---- 3. an EQ for the data queues, checked with a test event --------------------------------------------------------
const eqBuf = dma.alloc(PAGE);
const eqId = request("gdma_create_queue_req", 12, "gdma_create_queue_resp", {
  type: 4, pdid: pdid, doolbell_id: dbId, gdma_region: region(eqBuf), queue_size: PAGE, eq_pci_msix_index: 1 }).get("queue_index");
const dataEq = { eq: eqBuf, n: 256, head: 256 };
request("gdma_generate_test_event_req", 10, "gdma_general_resp", { queue_index: eqId });
const test = nextEqe(dataEq);
if (!test || test.type !== 64) throw new Error("no TEST_EVENT on EQ " + eqId);

// ---- 4. the vPort: config, TX, one SQ and one RQ with their CQs, RX steering ------------------------------------
const vp = request("mana_query_vport_cfg_req", 0x20008, "mana_query_vport_cfg_resp", { vport_index: 0 });
const vport = vp.get("vport"), mac = [0, 1, 2, 3, 4, 5].map(i => vp.get("mac_addr[" + i + "]"));
request("mana_config_vport_req", 0x20003, "mana_config_vport_resp", { vport: vport, pdid: pdid, doorbell_pageid: dbId });
const RING = 16384;
function wqObj(wqType) {
  const wq = dma.alloc(RING), cq = dma.alloc(2 * RING);
  const r = request("mana_create_wqobj_req", 0x20004, "mana_create_wqobj_resp", {
    vport: vport, wq_type: wqType, wq_gdma_region: region(wq), cq_gdma_region: region(cq), wq_size: RING, cq_size: 2 * RING, cq_parent_qid: eqId });
  return { wq: wq, cq: { buf: cq, n: 2 * RING / 64, head: 2 * RING / 64 }, id: r.get("wq_id"), cqId: r.get("cq_id"), obj: r.get("wq_obj"), tail: 0 };
}
const sq = wqObj(1), rq = wqObj(2);
request("mana_cfg_rx_steer_req_v2", 0x20007, "mana_cfg_rx_steer_resp", { vport: vport, rx_enable: 1, update_default_rxobj: 1, default_rxobj: rq.obj }, 2);
log.info("vPort {Vport} MAC {Mac}: SQ {Sq} (CQ {SqCq}), RQ {Rq} (CQ {RqCq}), EQ {Eq}", vport, mac.map(b => b.toString(16).padStart(2, "0")).join(":"),
  sq.id, sq.cqId, rq.id, rq.cqId, eqId);

// ---- 5. traffic: RX buffers posted, then bursts of 32 frames, every byte checked -------------------------------------
const SLOT = 2048, SLOTS = 64;
const txBuf = dma.alloc(SLOT * SLOTS), rxBuf = dma.alloc(SLOT * SLOTS);
function postRx(slot) {
  const at = rq.tail % RING;
  gdma.encode(rq.wq, at, "gdma_wqe", { num_sge: 1, inline_oob_size_div4: 2 });
  gdma.encode(rq.wq, at + 16, "gdma_sge", { address: rxBuf.iova + slot * SLOT, mem_key: mkey, size: SLOT });
  rq.tail += 32;
}
for (let s = 0; s < SLOTS; s++) postRx(s);
ring(dbId, 0x400, "gdma_doorbell_entry.rq", { id: rq.id, tail_ptr: rq.tail });
const armCq = q => ring(dbId, 0x800, "gdma_doorbell_entry.cq", { id: q.cqId, tail_ptr: q.cq.head % (q.cq.n * 8), arm: 1 });
armCq(sq); armCq(rq);

const frameOf = (seq, len) => {
  const f = mac.concat(mac, [0x88, 0xb5]);
  for (let i = 14; i < len; i++) f.push((seq * 7 + i) & 0xff);
  return f;
};
let sent = 0, received = 0, txErrors = 0, events = 0, bad = 0;
const expected = [];
while (received < FRAMES) {
  const burst = Math.min(BURST, FRAMES - sent, SLOTS - (sent - received));
  for (let b = 0; b < burst; b++, sent++) {
    const len = 60 + (sent * 37) % 200, slot = sent % SLOTS, at = sq.tail % RING;
    txBuf.write(slot * SLOT, frameOf(sent, len));
    gdma.encode(sq.wq, at, "gdma_wqe", { num_sge: 1, inline_oob_size_div4: 2 });
    gdma.encode(sq.wq, at + 8, "mana_tx_short_oob", { vcq_num: sq.cqId, vsq_frame: (sq.id >> 10) & 0x3fff });
    gdma.encode(sq.wq, at + 16, "gdma_sge", { address: txBuf.iova + slot * SLOT, mem_key: mkey, size: len });
    sq.tail += 32;
    expected.push(len);
  }
  if (burst > 0) ring(dbId, 0x000, "gdma_doorbell_entry.sq", { id: sq.id, tail_ptr: sq.tail });   // one doorbell per burst
  for (let e = nextEqe(dataEq); e; e = nextEqe(dataEq)) if (e.type === 3) events++;
  ring(dbId, 0xff8, "gdma_doorbell_entry.eq", { id: eqId, tail_ptr: dataEq.head % (dataEq.n * 8), arm: 1 });
  for (let c = nextCqe(sq.cq); c; c = nextCqe(sq.cq))
    if (gdma.decode(sq.cq.buf, c.off, "mana_tx_comp_oob").get("cqe_hdr.cqe_type") !== 32) txErrors++;
  let reposted = 0;
  for (let c = nextCqe(rq.cq); c; c = nextCqe(rq.cq)) {
    const rx = gdma.decode(rq.cq.buf, c.off, "mana_rxcomp_oob");
    const slot = (rx.get("rx_wqe_offset") / 32) % SLOTS, len = rx.get("ppi[0].pkt_len");
    const want = frameOf(received, expected[received]);
    const got = rxBuf.read(slot * SLOT, len);
    if (rx.get("cqe_hdr.cqe_type") !== 1 || len !== want.length || want.some((v, i) => got[i] !== v)) bad++;
    received++;
    postRx(slot);
    reposted++;
  }
  if (reposted > 0) ring(dbId, 0x400, "gdma_doorbell_entry.rq", { id: rq.id, tail_ptr: rq.tail });
  armCq(sq); armCq(rq);
}
log.info("sent {Sent}, received {Received}, corrupted {Bad}, TX errors {TxErrors}, completion events {Events}", sent, received, bad, txErrors, events);
metrics.inc("mana_frames_checked", received - bad);
if (bad !== 0 || txErrors !== 0) throw new Error(bad + " frames corrupted, " + txErrors + " TX errors");
