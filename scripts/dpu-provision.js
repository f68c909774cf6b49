// dpu-provision.js — the DPU control plane from a script (reference/dpu.md §3): the same rpcs a gRPC client calls,
// in-process, with the seed's message field names. Creates are idempotent, so running it twice changes nothing.
const web = dpu.newPort({ uuid: "web", mtu: 9000, max_qpair: 4, queue_depth: 1024 });
const db = dpu.newPort({ uuid: "db" });
const disk = dpu.vdiskCreate({ name: "root", max_queue: 2 });
dpu.vdiskUpdate({ pvf_id: disk.pvf_id, number_sectors: 20 * 1024 * 1024 * 2 });   // 20 GiB
dpu.meterAdd({ id: 10, rate: 8000 });                                               // 8 Mbit/s
dpu.classifierWrite({ key_index: 100, mask_rule_key: { ip_type: "ipv4", dip: [0x0A000007], dip_mask: [0xFFFFFFFF] },
                      action: { vid: web.vport, qid: 1, meter_id: 10 } });

try { dpu.newPort({ uuid: "web", mtu: 1500 }); }                                   // same uuid, other settings
catch (e) { log.info("refused as expected: {Status} ({Code}): {Detail}", e.status, e.code, e.detail); }

for (const p of dpu.queryPort({}).ports)
  log.info("port vport {Vport} uuid {Uuid} mac {Mac} mtu {Mtu} qpairs {Q} depth {D}", p.vport, p.uuid, p.mac, p.mtu, p.max_qpair, p.queue_depth);
for (const d of dpu.vdiskGetAllPvfCfg({ get_from_hard: false }).cfgs)
  log.info("vdisk {Id} {Name}: {Sectors} sectors, {Queues} queue(s), {Type}", d.pvfid, d.name, d.sector_num, d.max_queue, d.port_type);
for (const m of dpu.meterList({}).meters)
  log.info("meter {Id}: rate {Rate} kbit/s, used by {Refs} rule(s)", m.id, m.rate, m.ref_cnt);
for (const r of dpu.classifierList({}).rules)
  log.info("rule {Key}: dip 0x{Dip} → vport {Vid} queue {Qid} meter {Meter}", r.mask_rule_key.key_index, r.mask_rule_key.dip[0].toString(16), r.action.vid, r.action.qid, r.action.meter_id);
const cap = dpu.getPortCapability({});
`${cap.free_pvf_cnt} of ${cap.total_pvf_cnt} elastic NIC slots free`;
