// net-bridge.js — bridges the virtio-net NIC at 00:1f.0 (IRQ 11) to aethernet-service over IPC, zero copy.
// The seed's operational flow: initialisation, reception, transmission, the event loop (the host runs it).

// 1. Initialisation: the NIC and its DMA receive pool (the driver's frame pool), the IRQ, the channels.
const nic = net.open("0x00:0x1F:0x0").up("intx");
const rx = nic.burst();                 // SYS_NET_RX_POLL fills it, 32 frames at a time
const tx = nic.burst(1);                // SYS_NET_TX sends from it
tx.count = 0;

// 3. Transmission: TxPacket {frame, length} -> tx -> the buffer goes back to the pool -> TxPacketAck {buffer, status}.
//    A TxPacket of length 0 gives a buffer back unsent (aethernet dropped the frame it carried).
ipc.serve("svc://net-bridge", m => {
  if (m.type !== "TxPacket" || m.frame === null) return;
  const id = m.frame.id;
  if (m.length === 0) {
    nic.release(m.frame);
    return;
  }
  tx.put(0, m.frame);
  const sent = nic.tx(tx);              // the device reads the frame where aethernet wrote it; the slot returns to the pool
  metrics.inc("packets_tx", sent);
  ipc.send("svc://aethernet", "TxPacketAck", id + " " + (sent === 1 ? "ok" : "ring-full"));
});

// 2. Reception: interrupt -> acknowledge it -> rxPoll bursts until empty -> RxPacket per frame, ownership transferred.
//    The ISR is read first: a frame that lands after the last poll raises the line again instead of waiting for the next.
irq.register(11, e => {
  nic.ackInterrupt();                   // read the ISR: the level-triggered line drops
  let n;
  while ((n = nic.rxPoll(rx)) > 0) {
    metrics.inc("packets_rx", n);
    for (let i = 0; i < n; i++) {
      const frame = rx.take(i);
      if (!ipc.send("svc://aethernet", "RxPacket", null, frame)) nic.release(frame);   // back-pressure: counted, buffer home
    }
  }
});
