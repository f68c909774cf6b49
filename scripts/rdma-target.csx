// rdma-target.csx — the remote side of the seed's example in C#: a buffer the writer may RDMA-WRITE into, a posted
// receive for its SEND, and the endpoint record {gid, qpn, addr, rkey, length} handed over IPC.
using System.Text.Json;
using NicScript.Host.Capabilities;

var target_buf = Dma.Alloc(4096);
var inbox_buf = Dma.Alloc(4096);
int target_mr = (int)Rdma.rdma_reg_mr(target_buf, 4096, RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE);
int inbox_mr = (int)Rdma.rdma_reg_mr(inbox_buf, 4096, RDMA_ACCESS_LOCAL_WRITE);
int qp = (int)Rdma.rdma_create_qp(64, 64);
if (target_mr < 0 || inbox_mr < 0 || qp < 0) throw new InvalidOperationException("setup: " + Rdma.rdma_last_error()!.Message);
long recv_id = -1;
int deadline = VNode.After(10000, () => VNode.Fail("nothing arrived within 10 s"));

Ipc.Serve("svc://rdma-target", m =>
{
    var writer = JsonDocument.Parse(m.Body!).RootElement;
    if (Rdma.rdma_connect(qp, writer.GetProperty("gid").GetString()!, writer.GetProperty("qpn").GetDouble()) < 0)
        throw new InvalidOperationException("rdma_connect: " + Rdma.rdma_last_error()!.Message);
    recv_id = Rdma.rdma_post_recv(qp, inbox_mr, 4096);
    var info = Rdma.rdma_query_mr(target_mr)!;
    Ipc.Send("svc://rdma-writer", "endpoint", JsonSerializer.Serialize(new { gid = Rdma.rdma_query_gid(), qpn = qp, addr = info.Addr, rkey = info.Rkey, length = info.Length }));
    Log.Info("connected QP {Qp}; target buffer at 0x{Addr:x} rkey 0x{Rkey:x}", qp, info.Addr, info.Rkey);
    Ipc.Close("svc://rdma-target");
    var wc = Rdma.rdma_wc_array(1);
    int timer = 0;
    timer = VNode.Every(1, () =>
    {
        if (Rdma.rdma_poll_cq(qp, wc, 1) == 0) return;
        VNode.Cancel(timer);
        VNode.Cancel(deadline);
        if (wc[0].status != RDMA_WC_SUCCESS || wc[0].wr_id != recv_id) VNode.Fail($"receive completed with status {wc[0].status}");
        string written = target_buf.ReadText(0, 12), said = inbox_buf.ReadText(0, (int)wc[0].byte_len).TrimEnd('\0');
        Log.Info("RDMA WRITE placed \"{Written}\" in my buffer; SEND delivered \"{Said}\" ({Bytes} bytes)", written, said, wc[0].byte_len);
        if (written != "Test message") VNode.Fail($"the target buffer holds \"{written}\"");
        Rdma.rdma_destroy_qp(qp);
    });
});
