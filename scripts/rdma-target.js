// rdma-target.js — the remote side of the seed's example: a buffer the writer may RDMA-WRITE into, a posted
// receive for its SEND, and the endpoint record {gid, qpn, addr, rkey, length} handed over IPC.
const target_buf = dma.alloc(4096), inbox_buf = dma.alloc(4096);
const target_mr = rdma.rdma_reg_mr(target_buf, 4096, rdma.RDMA_ACCESS_LOCAL_WRITE | rdma.RDMA_ACCESS_REMOTE_WRITE);
const inbox_mr = rdma.rdma_reg_mr(inbox_buf, 4096, rdma.RDMA_ACCESS_LOCAL_WRITE);
const qp = rdma.rdma_create_qp(64, 64);
if (target_mr < 0 || inbox_mr < 0 || qp < 0) throw new Error("setup: " + rdma.rdma_last_error().message);
let recv_id = -1;
const deadline = vnode.after(10000, () => vnode.fail("nothing arrived within 10 s"));

ipc.serve("svc://rdma-target", m => {
  const writer = JSON.parse(m.body);
  if (rdma.rdma_connect(qp, writer.gid, writer.qpn) < 0) throw new Error("rdma_connect: " + rdma.rdma_last_error().message);
  recv_id = rdma.rdma_post_recv(qp, inbox_mr, 4096);        // connected (a QP with work queued cannot be), before the writer can send
  const info = rdma.rdma_query_mr(target_mr);
  ipc.send("svc://rdma-writer", "endpoint", JSON.stringify({ gid: rdma.rdma_query_gid(), qpn: qp, addr: info.addr, rkey: info.rkey, length: info.length }));
  log.info("connected QP {Qp} to {Gid} QP {Peer}; target buffer at 0x{Addr} rkey 0x{Rkey}", qp, writer.gid, writer.qpn, info.addr.toString(16), info.rkey.toString(16));
  ipc.close("svc://rdma-target");
  const wc = rdma.rdma_wc_array(1);
  const timer = vnode.every(1, () => {
    if (rdma.rdma_poll_cq(qp, wc, 1) === 0) return;
    vnode.cancel(timer);
    vnode.cancel(deadline);
    if (wc[0].status !== rdma.RDMA_WC_SUCCESS || wc[0].wr_id !== recv_id) vnode.fail(`receive completed with status ${wc[0].status}`);
    const written = target_buf.readText(0, 12), said = inbox_buf.readText(0, wc[0].byte_len).replace(/\0+$/, "");
    log.info("RDMA WRITE placed \"{Written}\" in my buffer; SEND delivered \"{Said}\" ({Bytes} bytes)", written, said, wc[0].byte_len);
    if (written !== "Test message") vnode.fail(`the target buffer holds "${written}"`);
    rdma.rdma_destroy_qp(qp);
  });
});
