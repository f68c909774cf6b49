// net-bridge.js — bridges the virtio-net NIC at 00:1f.0 (IRQ 11) to aethernet-service over IPC, zero copy.
// The seed's operational flow: initialisation, reception, transmission, the event loop (the host runs it).
// Frames move a burst per call: each is still its own RxPacket/TxPacket message, but the script makes one call for all of
// them, and the receiving loop wakes once per burst.

// 1. Initialisation: the NIC and its DMA receive pool (the driver's frame pool), the IRQ, the channels.
const nic = net.open("0x00:0x1F:0x0").up("intx");
const rx = nic.burst();                 // SYS_NET_RX_POLL fills it, 32 frames at a time
const tx = nic.burst();                 // SYS_NET_TX sends from it, up to 32 frames at a time
tx.count = 0;

// 3. Transmission: TxPacket {frame, length} messages -> tx -> the buffers go back to the pool -> one TxPacketAck per burst,
//    body "<sent> ok" (", <n> ring-full" when the ring refused some: those buffers go home unsent).
//    A TxPacket of length 0 gives its buffer back unsent (aethernet dropped the frame it carried).
ipc.serveBurst("svc://net-bridge", b => {
  let sent = 0, unsent = 0;
  for (let i = 0; i < b.count; ) {
    i = tx.gather(b, i);                // the frames, in order, until tx is full; empty ones straight back to the pool
    sent += nic.tx(tx);                 // the device reads each frame where aethernet wrote it; the slots return to the pool
    unsent += tx.count;
    tx.count = 0;                       // what the ring refused is dropped: the next gather puts its buffers back in the pool
  }
  metrics.inc("packets_tx", sent);
  if (sent + unsent > 0) ipc.send("svc://aethernet", "TxPacketAck", sent + " ok" + (unsent > 0 ? ", " + unsent + " ring-full" : ""));
});

// 2. Reception: interrupt -> acknowledge it -> rxPoll bursts until empty -> RxPacket per frame, ownership transferred.
//    The ISR is read first: a frame that lands after the last poll raises the line again instead of waiting for the next.
irq.register(11, e => {
  nic.ackInterrupt();                   // read the ISR: the level-triggered line drops
  let n;
  while ((n = nic.rxPoll(rx)) > 0) {
    metrics.inc("packets_rx", n);
    ipc.sendFrames("svc://aethernet", "RxPacket", rx);   // back-pressure: what did not go stays in rx, the next poll reposts it
  }
});
