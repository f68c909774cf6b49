// netdevice-sniffer.js — a LISTEN_TX session beside a primary one on a fuchsia.hardware.network device
// (reference/netdevice.md §8). The primary session sends an ARP request and ICMP echo requests; the sniffer
// session sees each of them echoed (RX_ECHOED_TX) and, on a loopback wire, each of them again as it comes back.
const dev = net.device(vnode.setting("device", "00:1f.0"));
const info = dev.getInfo();
const words = info.minDescriptorLength, count = 64, bufSize = 2048;
const mac = dev.getPort(0).getMac().getUnicastAddress();
log.info("netdevice {Name}: rx/tx FIFO depth {Rx}/{Tx}, port 0 MAC {Mac}", dev.name, info.rxDepth, info.txDepth, mac);

function open(name, options, rxFrames) {
  const descs = dma.alloc(count * words * 8), data = dma.alloc(count * bufSize);
  const { session, fifos } = dev.openSession(name, {
    descriptors: descs, data: data, descriptorVersion: 1, descriptorLength: words, descriptorCount: count, options: options });
  session.attach(0, rxFrames);
  const table = net.descriptorTable(descs, words);
  const post = ids => {
    for (const i of ids) table.set(i, { offset: i * bufSize, dataLength: bufSize });
    fifos.rx.write(ids);
  };
  post([...Array(32).keys()]);
  return { session, fifos, table, data, post };
}

const stack = open("stack", net.SessionFlags.PRIMARY, [net.FrameType.ETHERNET]);
const sniffer = open("sniffer", net.SessionFlags.LISTEN_TX, [net.FrameType.ETHERNET]);

const bytes = s => s.split(":").map(h => parseInt(h, 16));
const me = bytes(mac), ip = [169, 254, 10, 1];
function arpRequest() {
  return [255, 255, 255, 255, 255, 255, ...me, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1, ...me, ...ip, 0, 0, 0, 0, 0, 0, 169, 254, 10, 2,
    ...Array(18).fill(0)];
}
function echoRequest(seq) {
  const ipHdr = [0x45, 0, 0, 28, 0, seq, 0, 0, 64, 1, 0, 0, ...ip, 169, 254, 10, 2];
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (ipHdr[i] << 8) | ipHdr[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ipHdr[10] = (~sum >> 8) & 0xff; ipHdr[11] = ~sum & 0xff;
  return [...me, ...me, 0x08, 0x00, ...ipHdr, 8, 0, 0xf7, 0xff - seq, 0, 1, 0, seq, ...Array(18).fill(0)];
}

function describe(f) {
  const hex = b => b.toString(16).padStart(2, "0");
  const macOf = at => f.slice(at, at + 6).map(hex).join(":");
  const type = (f[12] << 8) | f[13];
  const what = type === 0x0806 ? `ARP ${f[21] === 1 ? "request" : "reply"} who-has ${f.slice(38, 42).join(".")}`
    : type === 0x0800 && f[23] === 1 ? `IPv4 ICMP type ${f[34]} seq ${f[41]}`
    : `ethertype 0x${type.toString(16)}`;
  return `${macOf(6)} > ${macOf(0)} ${what} (${f.length} bytes)`;
}

const total = Number(vnode.setting("frames", "4"));
let sent = 0, seen = 0, echoed = 0;
function send() {
  const frame = sent === 0 ? arpRequest() : echoRequest(sent);
  const i = 40 + (sent % 16);
  stack.data.write(i * bufSize, frame);
  stack.table.set(i, { frameType: net.FrameType.ETHERNET, portId: 0, offset: i * bufSize, dataLength: frame.length });
  stack.fifos.tx.write([i]);
  sent++;
}

const timer = vnode.every(20, () => {
  if (sent < total) send();
  for (const i of stack.fifos.tx.read(16)) {
    const flags = stack.table.get(i).returnFlags;
    if (flags !== 0) log.warning("tx {Index} came back with return flags 0x{Flags}", i, flags.toString(16));
  }
  stack.post(stack.fifos.rx.read(32));
  const got = sniffer.fifos.rx.read(32);
  for (const i of got) {
    const d = sniffer.table.get(i);
    const frame = sniffer.data.read(d.offset + d.headLength, d.dataLength);
    const isEcho = (d.inboundFlags & net.RxFlags.RX_ECHOED_TX) !== 0;
    if (isEcho) echoed++;
    seen++;
    log.info("{Dir} port {Port}: {Frame}", isEcho ? "tx" : "rx", d.portId, describe(frame));
  }
  sniffer.post(got);
  if (sent === total && seen >= 2 * total) {
    vnode.cancel(timer);
    log.info("sniffer saw {Seen} frames: {Echoed} echoed from tx, {Rx} received", seen, echoed, seen - echoed);
    sniffer.session.close();
    stack.session.close();
  }
});
