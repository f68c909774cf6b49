// dpu-meter.js — a meter policing real traffic through the DPU. The control plane (the `dpu` handle) makes an elastic
// NIC, a meter of rate_kbit and a rule sending frames for 10.0.0.7 to the NIC through the meter; the NIC's own virtio-net
// driver (`net`) takes what arrives; the outside end of optical port 0 (`dpu.wire`) streams 1000-byte frames at
// offered_fps for `seconds` on its own paced thread. What the NIC receives is about the meter's rate; the rest is dropped
// and counted.
const rateKbit = Number(vnode.setting("rate_kbit", "8000"));        // 8000 kbit/s = 1,000,000 bytes/s
const offered = Number(vnode.setting("offered_fps", "2000"));      // 1000-byte frames: 2,000,000 bytes/s offered
const seconds = Number(vnode.setting("seconds", "3"));

const port = dpu.newPort({ uuid: "metered" });
dpu.meterAdd({ id: 10, rate: rateKbit });
dpu.classifierWrite({ key_index: 1, mask_rule_key: { ip_type: "ipv4", dip: [0x0A000007], dip_mask: [0xFFFFFFFF] },
                      action: { vid: port.vport, qid: 0, meter_id: 10 } });

const nic = net.open(`01:${port.vport.toString(16).padStart(2, "0")}.0`).up("poll");
const burst = nic.burst(32);
const wire = dpu.wire("optical0").configure({ size: 1000, destination: "10.0.0.7" });
let received = 0;
const start = vnode.nowNs;
wire.start(offered, seconds);

const timer = vnode.every(2, () => {
  const streaming = wire.running;
  for (let n = nic.rxPoll(burst); n > 0; n = nic.rxPoll(burst)) received += n;
  if (streaming) return;
  vnode.cancel(timer);
  const elapsed = (vnode.nowNs - start) / 1e9;
  const s = dpu.getPortStats({ vid: port.vport });
  const m = dpu.meterGet({ id: 10 });
  const r = dpu.classifierRead({ key_index: 1 });
  metrics.set("offered_bytes_per_s", wire.sentBytes / elapsed);
  metrics.set("delivered_bytes_per_s", s.rx_bytes / elapsed);
  metrics.set("meter_bytes_per_s", rateKbit * 125);
  log.info("offered {Sent} frames ({Offered:N0} B/s); meter {Rate} kbit/s = {Allowed:N0} B/s", wire.sent, wire.sentBytes / elapsed, rateKbit, rateKbit * 125);
  log.info("vport {Vport}: rx_packets {Rx} rx_bytes {Bytes} ({Delivered:N0} B/s) rx_drop {Drop}; the driver took {Taken}",
           port.vport, s.rx_packets, s.rx_bytes, s.rx_bytes / elapsed, s.rx_drop, received);
  log.info("meter 10: pass {Pass} drop {MDrop}; rule 1 hits {Hits}", m.pass_packets, m.drop_packets, r.hit_packets);
});
`offering ${offered} frames/s of 1000 bytes for ${seconds} s`;
