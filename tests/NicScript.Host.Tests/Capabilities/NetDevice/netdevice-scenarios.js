// The checklist scenarios of reference/netdevice.md §6, through the JavaScript engine (§8.7): the same objects the C#
// tests drive, camelCased. Run on manifests/machines/netdevice-fixture.yml (fixture F); each scenario logs "PASS ND-nn".
const dev = net.device("00:1f.0"), emu = net.emulator("00:1f.0");
const ETH = net.FrameType.ETHERNET, PRIMARY = net.SessionFlags.PRIMARY;
let opened = [], names = 0;

function eq(actual, expected, what) {
  const a = JSON.stringify(actual), b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: expected ${b}, got ${a}`);
}
function status(fn, expected, what) {
  try { fn(); } catch (e) { eq(e.status, expected, what + " status"); eq(typeof e.code, "number", what + " code"); return; }
  throw new Error(`${what}: expected ${expected}, nothing was thrown`);
}
function open(flags, count = 64, words = 5) {
  const descs = dma.alloc(count * words * 8), data = dma.alloc(count * 2048);
  const info = { descriptors: descs, data: data, descriptorVersion: 1, descriptorLength: words, descriptorCount: count };
  if (flags !== undefined) info.options = flags;
  const { session, fifos } = dev.openSession("s" + names++, info);
  const table = net.descriptorTable(descs, words);
  for (let i = 0; i < count; i++) table.set(i, { offset: i * 2048, dataLength: 2048, frameType: ETH, portId: 13 });
  const c = { session, fifos, table, data, descs };
  c.send = (i, bytes, extra = {}) => {
    data.write(i * 2048 + (extra.headLength || 0), bytes);
    table.set(i, Object.assign({ frameType: ETH, portId: 13, offset: i * 2048, dataLength: bytes.length }, extra));
    return fifos.tx.write([i]);
  };
  c.post = (ids, dataLength = 2048) => {
    for (const i of ids) table.set(i, { offset: i * 2048, dataLength });
    return fifos.rx.write(ids);
  };
  c.chain = first => {
    let d = table.get(first), out = [];
    for (;;) { out = out.concat(data.read(d.offset + d.headLength, d.dataLength)); if (d.chainLength === 0) return out; d = table.get(d.nxt); }
  };
  opened.push(c);
  return c;
}
function P(count = 64) { const p = open(PRIMARY, count); p.session.attach(13, [ETH]); return p; }
const frame = (n, fill) => Array.from({ length: n }, (_, i) => fill === undefined ? (i < 6 ? [2, 0, 0, 0, 0, 13][i] : i & 0xff) : fill);
async function closes(c, reason) { eq(await c.session.waitClosedAsync(1000), "ZX_ERR_CANCELED", "epitaph"); eq(c.session.closeReason, reason, "closeReason"); }
async function staysOpen(c) {
  try { await c.session.waitClosedAsync(50); } catch (e) { eq(e.status, "ZX_ERR_TIMED_OUT", "still open"); return; }
  throw new Error("the session closed");
}
async function cleanup() {
  emu.holdTx(false); emu.deferStop(false); emu.finishStop();
  for (const c of opened) c.session.close();
  for (const c of opened) await c.session.waitClosedAsync(1000);
  for (const c of opened) { c.data.free(); c.descs.free(); }
  opened = [];
  emu.sentFrames();
}

const scenarios = {
  "ND-01": () => {
    const i = dev.getInfo();
    eq([i.descriptorVersion, i.minDescriptorLength, i.rxDepth, i.txDepth, i.bufferAlignment, i.maxBufferLength], [1, 5, 32, 32, 64, 2048], "info");
    eq([i.minRxBufferLength, i.minTxBufferLength, i.minTxBufferHead, i.minTxBufferTail, i.maxBufferParts], [64, 60, 0, 0, 4], "info");
  },
  "ND-03": () => { const s = open(PRIMARY); eq([s.fifos.rx.depth, s.fifos.tx.depth, emu.started, emu.portActive(13)], [32, 32, false, false], "open"); },
  "ND-04": () => {
    const descs = dma.alloc(320), data = dma.alloc(4096);
    status(() => dev.openSession("a", { descriptors: descs, data: data, descriptorVersion: 1, descriptorLength: 5 }), "ZX_ERR_INVALID_ARGS", "no count");
    descs.free(); data.free();
  },
  "ND-05": () => {
    const descs = dma.alloc(320), data = dma.alloc(4096);
    status(() => dev.openSession("a", { descriptors: descs, data: data, descriptorVersion: 2, descriptorLength: 5, descriptorCount: 8 }), "ZX_ERR_NOT_SUPPORTED", "v2");
    status(() => dev.openSession("a", { descriptors: descs, descriptorVersion: 2, descriptorLength: 5, descriptorCount: 8 }), "ZX_ERR_INVALID_ARGS", "v2 no data");
    descs.free(); data.free();
  },
  "ND-10": () => { status(() => open(8), "ZX_ERR_INVALID_ARGS", "options 8"); eq(open().session.flags, 0, "no options"); },
  "ND-13": () => { P(); eq([emu.portActive(13), emu.started], [true, true], "attached"); },
  "ND-14": () => { const s = open(PRIMARY); status(() => s.session.attach(13, [net.FrameType.IPV4]), "ZX_ERR_INVALID_ARGS", "ipv4"); s.session.attach(13, [ETH]); },
  "ND-15": () => {
    const s = open(PRIMARY);
    status(() => s.session.attach(14, []), "ZX_ERR_NOT_FOUND", "14");
    status(() => s.session.attach(52, []), "ZX_ERR_INVALID_ARGS", "52");
    status(() => s.session.detach(52), "ZX_ERR_INVALID_ARGS", "detach 52");
  },
  "ND-16": () => { const p = P(); status(() => p.session.attach(13, [ETH]), "ZX_ERR_ALREADY_BOUND", "twice"); },
  "ND-19": () => {
    const p = P(); emu.holdTx(true); p.send(0, frame(60));
    p.session.detach(13);
    eq([emu.started, p.fifos.tx.read(8), p.table.get(0).returnFlags], [false, [0], 0x80000004], "detached");
  },
  "ND-21": async () => {
    const p = P(); p.session.close(); await closes(p, "ZX_OK");
    status(() => p.fifos.rx.read(1), "ZX_ERR_PEER_CLOSED", "read");
    status(() => p.session.attach(13, [ETH]), "ZX_ERR_CANCELED", "attach");
  },
  "ND-22": async () => {
    const p = P(); emu.holdTx(true); emu.deferStop(true);
    p.post([1]); const rx = emu.heldRx()[0]; p.send(0, frame(60)); const tx = emu.pendingTx()[0].id;
    p.session.close(); await staysOpen(p);
    emu.completeTx(tx, "ZX_OK"); await staysOpen(p);
    emu.returnRx(rx); await closes(p, "ZX_OK");
  },
  "ND-24": async () => { const p = P(); p.fifos.tx.close(); await closes(p, "ZX_ERR_PEER_CLOSED"); },
  "ND-27": async () => { const p = P(); p.fifos.tx.write([64]); await closes(p, "ZX_ERR_IO_INVALID"); eq(emu.sentFrames().length, 0, "sent"); },
  "ND-29": async () => {
    const p = P();
    const parts = [10, 20, 30, 40].map((n, k) => frame(n, k + 1));
    parts.forEach((b, k) => { p.data.write(k * 2048, b); p.table.set(k, { frameType: ETH, portId: 13, offset: k * 2048, dataLength: b.length, chainLength: 3 - k, nxt: k + 1 }); });
    p.fifos.tx.write([0]);
    eq(emu.sentFrames()[0].bytes, [].concat(...parts), "chain of four");
  },
  "ND-33": async () => { const p = P(); p.send(0, frame(60)); eq(p.fifos.tx.read(8), [0], "60"); p.send(1, frame(59)); await closes(p, "ZX_ERR_IO_INVALID"); },
  "ND-38": () => {
    const p = P(); p.send(7, frame(60), { returnFlags: 0xFFFFFFFF });
    eq([p.fifos.tx.read(8), p.table.get(7).returnFlags, p.table.get(7).dataLength], [[7], 0, 60], "completed");
  },
  "ND-39": async () => {
    const p = P(); p.send(0, frame(60), { portId: 31 });
    eq([p.fifos.tx.read(8), p.table.get(0).returnFlags], [[0], 0x80000004], "31"); await staysOpen(p);
    p.send(1, frame(60), { portId: 32 }); await closes(p, "ZX_ERR_IO_INVALID");
  },
  "ND-40": () => {
    const p = P(); emu.setStatus(13, { online: false, mtu: 1514 }); p.send(0, frame(60));
    eq([p.fifos.tx.read(8), p.table.get(0).returnFlags, emu.sentFrames().length], [[0], 0x80000004, 0], "offline");
    emu.setStatus(13, { online: true }); p.send(1, frame(60)); eq(p.table.get(p.fifos.tx.read(8)[0]).returnFlags, 0, "online");
  },
  "ND-41": () => { const p = P(); p.send(0, frame(60), { frameType: net.FrameType.IPV4 }); eq([p.fifos.tx.read(8), p.table.get(0).returnFlags], [[0], 0x80000001], "ipv4"); },
  "ND-42": () => {
    const p = P(); p.send(0, frame(60), { inboundFlags: net.TxFlags.TX_ACCEL_1 }); eq(p.table.get(p.fifos.tx.read(8)[0]).returnFlags, 0x80000001, "accel 1");
    emu.holdTx(true); p.send(1, frame(60)); emu.completeTx(emu.pendingTx()[0].id, "ZX_ERR_NO_RESOURCES");
    eq(p.table.get(p.fifos.tx.read(8)[0]).returnFlags, 0x80000002, "no resources");
  },
  "ND-44": async () => {
    const n = open(0); n.session.attach(13, [ETH]); n.send(0, frame(60));
    eq(await n.fifos.tx.waitReadableAsync(50), false, "waits");
    P(); eq(await n.fifos.tx.waitReadableAsync(1000), true, "sent"); eq(n.fifos.tx.read(8), [0], "index");
  },
  "ND-45": () => {
    const s = open(PRIMARY); const many = [...Array(33).keys()];
    eq([s.fifos.tx.write(many), s.fifos.tx.write([40]), s.fifos.rx.read(8)], [32, 0, []], "depth");
  },
  "ND-47": () => {
    const p = P(); p.post([4]); const f = frame(100);
    eq(emu.injectRx(13, f, { frameType: ETH, flags: net.RxFlags.RX_ACCEL_0 }), true, "injected");
    eq(p.fifos.rx.read(8), [4], "index");
    const d = p.table.get(4);
    eq([d.portId, d.frameType, d.infoType, d.inboundFlags, d.headLength, d.dataLength, d.tailLength, d.chainLength, d.nxt, d.offset],
      [13, 1, 0, 1, 0, 100, 1948, 0, 0xFFFF, 8192], "descriptor");
    eq(p.data.read(8192, 100), f, "payload");
  },
  "ND-48": () => {
    const p = P(); p.post([0, 1, 2, 3, 4], 1024); const f = frame(3000);
    emu.injectRx(13, f); const first = p.fifos.rx.read(8);
    eq(first.length, 1, "one index"); eq(p.table.get(first[0]).chainLength, 2, "chain"); eq(p.chain(first[0]), f, "bytes");
  },
  "ND-50": () => {
    const p = P(), n = open(0); n.session.attach(13, [ETH]); p.post([0, 1]); n.post([10, 11]);
    emu.injectRx(13, frame(15, 7));
    eq([p.chain(p.fifos.rx.read(8)[0]), n.chain(n.fifos.rx.read(8)[0])], [frame(15, 7), frame(15, 7)], "both");
  },
  "ND-53": () => {
    const a = open(PRIMARY, 64), b = open(PRIMARY, 128);
    a.session.attach(13, [ETH]); b.session.attach(13, [ETH]); a.post([0, 1]);
    eq(emu.injectRx(13, frame(100)), false, "b is primary with no buffers");
    b.session.detach(13); eq(emu.injectRx(13, frame(100)), true, "a primary"); eq(a.fifos.rx.read(8).length, 1, "a got it");
  },
  "ND-56": () => {
    const p = P(), r = open(net.SessionFlags.REPORT_INVALID_RX); r.session.attach(13, [ETH]); p.post([0]); r.post([10]);
    emu.injectRx(13, frame(100), { flags: net.RxFlags.RX_VALIDATION_ERROR });
    eq([r.table.get(r.fifos.rx.read(8)[0]).inboundFlags, p.fifos.rx.read(8)], [0x40000000, []], "only r");
  },
  "ND-57": () => {
    const p = P(), l = open(net.SessionFlags.LISTEN_TX); l.session.attach(13, [ETH]); l.post([20]);
    p.send(0, frame(60)); const d = l.table.get(l.fifos.rx.read(8)[0]);
    eq([d.inboundFlags >>> 0, d.portId, d.frameType], [net.RxFlags.RX_ECHOED_TX, 13, 1], "echo");
  },
  "ND-60": async () => { const port = dev.getPort(14); eq(await port.waitClosedAsync(1000), "ZX_ERR_NOT_FOUND", "epitaph"); status(() => port.getInfo(), "ZX_ERR_NOT_FOUND", "getInfo"); },
  "ND-61": () => {
    const port = dev.getPort(13), info = port.getInfo();
    eq([info.id, info.class, info.rxTypes, info.txTypes[0].type, info.txTypes[0].features, info.txTypes[0].supportedFlags], [13, 1, [1], 1, 1, 1], "info");
    eq([port.getStatus().flags, port.getStatus().mtu], [1, 1514], "status");
  },
  "ND-62": async () => {
    emu.addPort(14, { mac: null }); const mac = dev.getPort(14).getMac();
    eq(await mac.waitClosedAsync(1000), "ZX_ERR_NOT_SUPPORTED", "no mac"); emu.removePort(14);
  },
  "ND-63": async () => {
    emu.addPort(2, { mac: "02:00:00:00:00:02" }); const w = dev.getPortWatcher(), seen = [];
    for (let i = 0; i < 3; i++) { const e = await w.watchAsync(); seen.push(e.kind + (e.id === null || e.id === undefined ? "" : e.id)); }
    eq(seen, ["existing2", "existing13", "idle"], "events"); emu.removePort(2);
  },
  "ND-66": async () => {
    emu.addPort(14, { mac: "02:00:00:00:00:0e" }); const p = P(); const w = dev.getPortWatcher();
    while ((await w.watchAsync()).kind !== "idle") { }
    const pending = w.watchAsync(); emu.removePort(13);
    eq((await pending).kind, "removed", "removed"); eq(emu.started, false, "stopped");
    status(() => p.session.detach(13), "ZX_ERR_NOT_FOUND", "detach");
    emu.removePort(14); emu.addPort(13, { mac: "02:00:00:00:00:0d", macModes: [0, 1, 2], txTypes: [{ type: 1, features: 1, supportedFlags: 1 }] });
  },
  "ND-68": async () => {
    const sw = dev.getPort(13).getStatusWatcher(3); eq((await sw.watchStatusAsync()).mtu, 1514, "first");
    const next = sw.watchStatusAsync(); emu.setStatus(13, { mtu: 1000 }); eq((await next).mtu, 1000, "change"); emu.setStatus(13, { mtu: 1514 });
  },
  "ND-75": () => {
    const c1 = dev.getPort(13).getMac(), c2 = dev.getPort(13).getMac();
    eq(c1.addMulticastAddress("01:00:00:00:00:02"), "ZX_OK", "add"); eq(c2.setMode(net.MacFilterMode.PROMISCUOUS), "ZX_OK", "promisc");
    eq(emu.macState(13).mode, 2, "promiscuous"); c2.close();
    eq([emu.macState(13).mode, emu.macState(13).multicast], [0, ["01:00:00:00:00:02"]], "back"); c1.close();
  },
  "ND-76": () => {
    const m = dev.getPort(13).getMac();
    eq(m.addMulticastAddress("00:01:02:03:04:05"), "ZX_ERR_INVALID_ARGS", "unicast");
    eq(m.addMulticastAddress([0x33, 0x33, 0, 0, 0, 1]), "ZX_OK", "six bytes");
    eq(m.removeMulticastAddress([0x33, 0x33, 0, 0, 0, 1]), "ZX_OK", "six bytes removed");
    eq(m.addMulticastAddress([0x33, 0x33, 0, 0, 1]), "ZX_ERR_INVALID_ARGS", "five bytes");
    m.close();
  },
  "ND-79": () => {
    const p = P(); p.post([...Array(8).keys()]);
    emu.fromWire(13, frame(60)); emu.fromWire(13, [2, 0, 0, 0, 0, 0x99].concat(frame(54)));
    eq(p.fifos.rx.read(8).length, 1, "only ours");
  },
};

(async () => {
  let passed = 0;
  for (const [name, run] of Object.entries(scenarios)) {
    try { await run(); } catch (e) { vnode.fail(`${name}: ${e.status ? e.status + " " : ""}${e.message}`); return; }
    await cleanup();
    passed++;
    log.info("PASS {Name}", name);
  }
  log.info("netdevice scenarios: {Passed} passed through JavaScript", passed);
})();
