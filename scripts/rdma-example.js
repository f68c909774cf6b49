// rdma-example.js — the seed's "Complete Example Program" ported line by line, with the remote side made real:
// remote_addr and remote_rkey come from the target V-Node (rdma-target.js on the other host) over IPC.
// Run with: dotnet run --project host -- run manifests/rdma-pair.yml

// Allocate and register memory (char buffers become DMA buffers: they need a stable address)
const send_buf = dma.alloc(4096); send_buf.writeText(0, "Test message");
const recv_buf = dma.alloc(4096);

const send_mr = rdma.rdma_reg_mr(send_buf, send_buf.length,
                                 rdma.RDMA_ACCESS_LOCAL_WRITE);
const recv_mr = rdma.rdma_reg_mr(recv_buf, recv_buf.length,
                                 rdma.RDMA_ACCESS_LOCAL_WRITE | rdma.RDMA_ACCESS_REMOTE_WRITE);
if (send_mr < 0 || recv_mr < 0) throw new Error("rdma_reg_mr: " + rdma.rdma_last_error().message);

// Create queue pair
const qp = rdma.rdma_create_qp(64, 64);

// A greeting for the target's posted receive (the part the seed leaves to the reader: a SEND)
const hello_buf = dma.alloc(64); hello_buf.writeText(0, "Hello from " + rdma.rdma_query_gid());
const hello_mr = rdma.rdma_reg_mr(hello_buf, hello_buf.length, 0);

ipc.serve("svc://rdma-writer", m => {
  const peer = JSON.parse(m.body);          // {gid, qpn, addr, rkey, length} of the target
  if (rdma.rdma_connect(qp, peer.gid, peer.qpn) < 0) throw new Error("rdma_connect: " + rdma.rdma_last_error().message);

  // Post RDMA write
  const remote_addr = peer.addr;           // the target's buffer
  const remote_rkey = peer.rkey;           // and its key

  const wr_id = rdma.rdma_post_write(qp, send_mr, 0, remote_addr, remote_rkey, 12);
  const send_id = rdma.rdma_post_send(qp, hello_mr, 32);

  // Poll for completion
  const wc = rdma.rdma_wc_array(1);
  const seen = [];
  while (seen.length < 2) {
    while (rdma.rdma_poll_cq(qp, wc, 1) === 0) {
      // Spin waiting for completion
    }
    seen.push({ id: wc[0].wr_id, status: wc[0].status, opcode: wc[0].opcode, bytes: wc[0].byte_len });
  }

  for (const c of seen) {
    if (c.status === rdma.RDMA_WC_SUCCESS) {
      log.info("RDMA {What} completed successfully! (wr_id {Id}, {Bytes} bytes)", c.opcode === rdma.RDMA_WC_RDMA_WRITE ? "write" : "send", c.id, c.bytes);
    } else vnode.fail(`wr_id ${c.id} completed with status ${c.status}`);
  }
  if (seen[0].id !== wr_id || seen[1].id !== send_id) vnode.fail("completions out of order");

  // Cleanup
  rdma.rdma_destroy_qp(qp);
  rdma.rdma_dereg_mr(send_mr);
  rdma.rdma_dereg_mr(recv_mr);
  rdma.rdma_dereg_mr(hello_mr);
  ipc.close("svc://rdma-writer");
});

const me = rdma.rdma_query_mr(recv_mr);
ipc.send("svc://rdma-target", "hello", JSON.stringify({ gid: rdma.rdma_query_gid(), qpn: qp, addr: me.addr, rkey: me.rkey, length: me.length }));
