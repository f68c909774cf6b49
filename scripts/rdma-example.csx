// rdma-example.csx — the seed's "Complete Example Program" ported line by line to C#, with the remote side made real:
// remote_addr and remote_rkey come from the target V-Node (rdma-target.csx on the other host) over IPC.
// Run with: dotnet run --project host -- run manifests/rdma-pair-cs.yml
using System.Text.Json;
using NicScript.Host.Capabilities;

// Allocate and register memory (char buffers become DMA buffers: they need a stable address)
var send_buf = Dma.Alloc(4096); send_buf.WriteText(0, "Test message");
var recv_buf = Dma.Alloc(4096);

long send_mr = Rdma.rdma_reg_mr(send_buf, send_buf.Length,
                                RDMA_ACCESS_LOCAL_WRITE);
long recv_mr = Rdma.rdma_reg_mr(recv_buf, recv_buf.Length,
                                RDMA_ACCESS_LOCAL_WRITE | RDMA_ACCESS_REMOTE_WRITE);
if (send_mr < 0 || recv_mr < 0) throw new InvalidOperationException("rdma_reg_mr: " + Rdma.rdma_last_error()!.Message);

// Create queue pair
int qp = (int)Rdma.rdma_create_qp(64, 64);

// A greeting for the target's posted receive
var hello_buf = Dma.Alloc(64); hello_buf.WriteText(0, "Hello from " + Rdma.rdma_query_gid());
int hello_mr = (int)Rdma.rdma_reg_mr(hello_buf, hello_buf.Length, 0);

Ipc.Serve("svc://rdma-writer", m =>
{
    var peer = JsonDocument.Parse(m.Body!).RootElement;   // {gid, qpn, addr, rkey, length} of the target
    if (Rdma.rdma_connect(qp, peer.GetProperty("gid").GetString()!, peer.GetProperty("qpn").GetDouble()) < 0)
        throw new InvalidOperationException("rdma_connect: " + Rdma.rdma_last_error()!.Message);

    // Post RDMA write
    double remote_addr = peer.GetProperty("addr").GetDouble();   // the target's buffer
    double remote_rkey = peer.GetProperty("rkey").GetDouble();   // and its key

    long wr_id = Rdma.rdma_post_write(qp, (int)send_mr, 0, remote_addr, remote_rkey, 12);
    long send_id = Rdma.rdma_post_send(qp, hello_mr, 32);

    // Poll for completion
    var wc = Rdma.rdma_wc_array(1);
    var seen = new List<(long Id, int Status, int Opcode, double Bytes)>();
    while (seen.Count < 2)
    {
        while (Rdma.rdma_poll_cq(qp, wc, 1) == 0)
        {
            // Spin waiting for completion
        }
        seen.Add((wc[0].wr_id, wc[0].status, wc[0].opcode, wc[0].byte_len));
    }

    foreach (var c in seen)
    {
        if (c.Status == RDMA_WC_SUCCESS)
            Log.Info("RDMA {What} completed successfully! (wr_id {Id}, {Bytes} bytes)", c.Opcode == RDMA_WC_RDMA_WRITE ? "write" : "send", c.Id, c.Bytes);
        else VNode.Fail($"wr_id {c.Id} completed with status {c.Status}");
    }
    if (seen[0].Id != wr_id || seen[1].Id != send_id) VNode.Fail("completions out of order");

    // Cleanup
    Rdma.rdma_destroy_qp(qp);
    Rdma.rdma_dereg_mr((int)send_mr);
    Rdma.rdma_dereg_mr((int)recv_mr);
    Rdma.rdma_dereg_mr(hello_mr);
    Ipc.Close("svc://rdma-writer");
});

var me = Rdma.rdma_query_mr((int)recv_mr)!;
Ipc.Send("svc://rdma-target", "hello", JsonSerializer.Serialize(new { gid = Rdma.rdma_query_gid(), qpn = qp, addr = me.Addr, rkey = me.Rkey, length = me.Length }));
