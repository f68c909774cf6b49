// virtio-bringup.csx — the C# twin of virtio-bringup.js: the virtio-net at 00:1f.0 brought up register by register
// (virtio 1.x §3.1.1, §4.1), one frame sent on the loopback wire and received back into an RX buffer.
string Hex(double n) => "0x" + ((ulong)n).ToString("x");
var dev = Pci.Open("00:1f.0");
Log.Info("found {Vendor}:{Device} class {Class}", Hex(dev.VendorId), Hex(dev.DeviceId), Hex(dev.ClassCode));
dev.WriteConfig16(0x04, dev.ReadConfig16(0x04) | 0x6);                // Command: memory space + bus master

// Find the register blocks through the vendor capabilities (cfg_type 1 common, 2 notify, 3 ISR, 4 device).
var caps = new Dictionary<int, (int Bar, int Off, int Mult)>();
foreach (var at in dev.Capabilities(0x09))
{
    int type = dev.ReadConfig8(at + 3);
    caps[type] = (dev.ReadConfig8(at + 4), (int)dev.ReadConfig32(at + 8), type == 2 ? (int)dev.ReadConfig32(at + 16) : 0);
}
var (C, N, I, D) = (caps[1], caps[2], caps[3], caps[4]);
double Rd(int off, int size) => dev.ReadBar(C.Bar, C.Off + off, size);
void Wr(int off, int size, double v) => dev.WriteBar(C.Bar, C.Off + off, size, v);

Wr(0x14, 1, 0);                                                       // device_status = 0: reset
Wr(0x14, 1, 1);                                                       // ACKNOWLEDGE
Wr(0x14, 1, 1 | 2);                                                   // DRIVER
Wr(0x00, 4, 1);
Log.Info("device features high word {High}", Hex(Rd(0x04, 4)));
Wr(0x08, 4, 0); Wr(0x0c, 4, 0);                                       // driver features 0..31: none
Wr(0x08, 4, 1); Wr(0x0c, 4, 1);                                       // 32..63: VIRTIO_F_VERSION_1
Wr(0x14, 1, 1 | 2 | 8);                                               // FEATURES_OK ...
if (((int)Rd(0x14, 1) & 8) == 0) throw new InvalidOperationException("the device refused our features"); // ... must stick

// Two queues of 8: desc table at 0, available ring at 128, used ring at 152, in one DMA page each.
var queues = new List<(NicScript.Host.Capabilities.DmaBuffer Ring, int Notify)>();
for (var q = 0; q < 2; q++)
{
    Wr(0x16, 2, q);                                                   // queue_select
    Wr(0x18, 2, 8);                                                   // queue_size
    var ring = Dma.Alloc(4096);
    Wr(0x20, 8, ring.Iova); Wr(0x28, 8, ring.Iova + 128); Wr(0x30, 8, ring.Iova + 152);
    Wr(0x1c, 2, 1);                                                   // queue_enable
    queues.Add((ring, N.Off + (int)Rd(0x1e, 2) * N.Mult));
}
Wr(0x14, 1, 1 | 2 | 8 | 4);                                           // DRIVER_OK: the device is live
Log.Info("status {Status}, MAC {Mac}", Hex(Rd(0x14, 1)),
    string.Join(":", Enumerable.Range(0, 6).Select(i => ((int)dev.ReadBar(D.Bar, D.Off + i, 1)).ToString("x2"))));

void Desc(NicScript.Host.Capabilities.DmaBuffer ring, int i, double addr, int len, int flags)
{
    ring.WriteU64(i * 16, addr); ring.WriteU32(i * 16 + 8, len); ring.WriteU16(i * 16 + 12, flags); ring.WriteU16(i * 16 + 14, 0);
}
void Offer(NicScript.Host.Capabilities.DmaBuffer ring, int slot, int head) { ring.WriteU16(128 + 4 + 2 * slot, head); ring.WriteU16(128 + 2, slot + 1); }

var rxbuf = Dma.Alloc(2048);
var txbuf = Dma.Alloc(2048);
Desc(queues[0].Ring, 0, rxbuf.Iova, 2048, 2);                         // device-writable
Offer(queues[0].Ring, 0, 0);
dev.WriteBar(N.Bar, queues[0].Notify, 2, 0);

var frame = new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5 }
    .Concat(Encoding.ASCII.GetBytes("hello, wire")).ToArray();
txbuf.Write(12, frame);                                               // after the 12-byte virtio_net_hdr (zeros)
Desc(queues[1].Ring, 0, txbuf.Iova, 12 + frame.Length, 0);
Offer(queues[1].Ring, 0, 0);
dev.WriteBar(N.Bar, queues[1].Notify, 2, 1);                          // the doorbell: the device sends it now

var rxUsed = queues[0].Ring;
int usedIdx = rxUsed.ReadU16(152 + 2), len = (int)rxUsed.ReadU32(152 + 4 + 4);
var back = rxbuf.Read(12, len - 12);
var same = back.SequenceEqual(frame);
var isr = dev.ReadBar(I.Bar, I.Off, 1);                               // reading the ISR acknowledges INTx
Log.Info("rx used.idx {Idx}, {Len} bytes, frame {Same}, ISR {Isr}", usedIdx, len, same ? "identical" : "DIFFERENT", isr);
if (!same) throw new InvalidOperationException("the frame came back changed");
$"sent {frame.Length} bytes, received {back.Length} identical bytes"
