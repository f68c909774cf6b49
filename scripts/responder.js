// responder.js — answers ARP and ICMP echo for one IPv4 address on the virtio-net at 00:1f.0.
// With --wire tap:NAME the Linux stack is the peer: `ping 169.254.0.2` from the TAP's side gets replies.
const MY_IP = [169, 254, 0, 2];

const nic = net.open("00:1f.0").up("intx");
const MY_MAC = nic.mac.split(":").map(h => parseInt(h, 16));
const rx = nic.burst();
const tx = nic.burst();
log.info("responder up: {Mac} {Ip}", nic.mac, MY_IP.join("."));

function sameIp(f, at) { return f[at] === MY_IP[0] && f[at + 1] === MY_IP[1] && f[at + 2] === MY_IP[2] && f[at + 3] === MY_IP[3]; }

function checksum(f, start, end) {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (f[i] << 8) + (i + 1 < end ? f[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return (~sum) & 0xffff;
}

function arpReply(f) {
  // Ethernet(14) + ARP: htype 1, ptype 0x0800, hlen 6, plen 4, oper 1 (request), target IP ours.
  if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x06 || f[20] !== 0 || f[21] !== 1 || !sameIp(f, 38)) return null;
  const r = f.slice(0, 42);
  for (let i = 0; i < 6; i++) { r[i] = f[6 + i]; r[6 + i] = MY_MAC[i]; r[22 + i] = MY_MAC[i]; r[32 + i] = f[22 + i]; }
  r[21] = 2;                                            // oper: reply
  for (let i = 0; i < 4; i++) { r[28 + i] = MY_IP[i]; r[38 + i] = f[28 + i]; }
  return r;
}

function echoReply(f) {
  // Ethernet + IPv4 (protocol 1) + ICMP echo request (type 8) to our address.
  if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x00 || (f[14] >> 4) !== 4 || f[23] !== 1 || !sameIp(f, 30)) return null;
  const ihl = (f[14] & 0x0f) * 4, icmp = 14 + ihl;
  const total = (f[16] << 8) | f[17];
  if (f[icmp] !== 8 || 14 + total > f.length) return null;
  const r = f.slice(0, 14 + total);
  for (let i = 0; i < 6; i++) { r[i] = f[6 + i]; r[6 + i] = MY_MAC[i]; }
  for (let i = 0; i < 4; i++) { r[26 + i] = f[30 + i]; r[30 + i] = f[26 + i]; }
  r[22] = 64;                                           // TTL
  r[24] = 0; r[25] = 0;
  const ipSum = checksum(r, 14, icmp); r[24] = ipSum >> 8; r[25] = ipSum & 0xff;
  r[icmp] = 0;                                          // echo reply
  r[icmp + 2] = 0; r[icmp + 3] = 0;
  const icmpSum = checksum(r, icmp, 14 + total); r[icmp + 2] = icmpSum >> 8; r[icmp + 3] = icmpSum & 0xff;
  return r;
}

irq.register(11, e => {
  nic.ackInterrupt();                                   // level-triggered: read the ISR or the line fires again
  let n;
  while ((n = nic.rxPoll(rx)) > 0) {
    metrics.inc("packets_rx", n);
    let out = 0;
    for (let i = 0; i < n; i++) {
      const f = rx.read(i);
      const reply = arpReply(f) || echoReply(f);
      if (reply) tx.write(out++, reply);
    }
    if (out > 0) {
      tx.count = out;
      metrics.inc("packets_tx", nic.tx(tx));
    }
  }
});
