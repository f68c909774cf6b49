// virtio-bringup.js — bring the virtio-net at 00:1f.0 up by hand, register by register, as a kernel driver does
// (virtio 1.x §3.1.1, §4.1), then send one frame on the loopback wire and watch it come back into an RX buffer.
const hex = n => "0x" + n.toString(16);
const dev = pci.open("00:1f.0");
log.info("found {Vendor}:{Device} class {Class}", hex(dev.vendorId), hex(dev.deviceId), hex(dev.classCode));
dev.writeConfig16(0x04, dev.readConfig16(0x04) | 0x6);               // Command: memory space + bus master

// Find the register blocks through the vendor capabilities (cfg_type 1 common, 2 notify, 3 ISR, 4 device).
const caps = {};
for (const at of dev.capabilities(0x09)) {
  const type = dev.readConfig8(at + 3);
  caps[type] = { bar: dev.readConfig8(at + 4), off: dev.readConfig32(at + 8), mult: type === 2 ? dev.readConfig32(at + 16) : 0 };
}
const C = caps[1], N = caps[2], I = caps[3], D = caps[4];
const rd = (off, size) => dev.readBar(C.bar, C.off + off, size);
const wr = (off, size, v) => dev.writeBar(C.bar, C.off + off, size, v);

wr(0x14, 1, 0);                                                       // device_status = 0: reset
wr(0x14, 1, 1);                                                       // ACKNOWLEDGE
wr(0x14, 1, 1 | 2);                                                   // DRIVER
wr(0x00, 4, 1);
log.info("device features high word {High}", hex(rd(0x04, 4)));
wr(0x08, 4, 0); wr(0x0c, 4, 0);                                       // driver features 0..31: none
wr(0x08, 4, 1); wr(0x0c, 4, 1);                                       // 32..63: VIRTIO_F_VERSION_1
wr(0x14, 1, 1 | 2 | 8);                                               // FEATURES_OK ...
if ((rd(0x14, 1) & 8) === 0) throw new Error("the device refused our features");   // ... must stick

// Two queues of 8: desc table at 0, available ring at 128, used ring at 152, in one DMA page each.
const queues = [];
for (let q = 0; q < 2; q++) {
  wr(0x16, 2, q);                                                     // queue_select
  wr(0x18, 2, 8);                                                     // queue_size
  const ring = dma.alloc(4096);
  wr(0x20, 8, ring.iova); wr(0x28, 8, ring.iova + 128); wr(0x30, 8, ring.iova + 152);
  wr(0x1c, 2, 1);                                                     // queue_enable
  queues.push({ ring, notify: N.off + rd(0x1e, 2) * N.mult });
}
wr(0x14, 1, 1 | 2 | 8 | 4);                                           // DRIVER_OK: the device is live
log.info("status {Status}, MAC {Mac}", hex(rd(0x14, 1)),
  [0, 1, 2, 3, 4, 5].map(i => dev.readBar(D.bar, D.off + i, 1).toString(16).padStart(2, "0")).join(":"));

function desc(ring, i, addr, len, flags) { ring.writeU64(i * 16, addr); ring.writeU32(i * 16 + 8, len); ring.writeU16(i * 16 + 12, flags); ring.writeU16(i * 16 + 14, 0); }
function offer(ring, slot, head) { ring.writeU16(128 + 4 + 2 * slot, head); ring.writeU16(128 + 2, slot + 1); }

const rxbuf = dma.alloc(2048), txbuf = dma.alloc(2048);
desc(queues[0].ring, 0, rxbuf.iova, 2048, 2);                         // device-writable
offer(queues[0].ring, 0, 0);
dev.writeBar(N.bar, queues[0].notify, 2, 0);

const payload = Array.from("hello, wire").map(c => c.charCodeAt(0));
const frame = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5, ...payload];
txbuf.write(12, frame);                                               // after the 12-byte virtio_net_hdr (zeros)
desc(queues[1].ring, 0, txbuf.iova, 12 + frame.length, 0);
offer(queues[1].ring, 0, 0);
dev.writeBar(N.bar, queues[1].notify, 2, 1);                          // the doorbell: the device sends it now

const rxUsed = queues[0].ring;
const usedIdx = rxUsed.readU16(152 + 2), len = rxUsed.readU32(152 + 4 + 4);
const back = rxbuf.read(12, len - 12);
const same = back.length === frame.length && back.every((b, i) => b === frame[i]);
const isr = dev.readBar(I.bar, I.off, 1);                             // reading the ISR acknowledges INTx
log.info("rx used.idx {Idx}, {Len} bytes, frame {Same}, ISR {Isr}", usedIdx, len, same ? "identical" : "DIFFERENT", isr);
if (!same) throw new Error("the frame came back changed");
`sent ${frame.length} bytes, received ${back.length} identical bytes`;
