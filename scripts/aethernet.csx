// aethernet.csx — aethernet-service: an IPv4 address and a MAC behind net-bridge. Answers ARP requests and ICMP echo
// requests for its address by rewriting the request's own buffer into the reply, drops and counts the rest,
// and gives every buffer back to net-bridge.
var cidr = VNode.Setting("ipv4", "169.254.10.2/24");
var myIp = cidr.Split('/')[0].Split('.').Select(byte.Parse).ToArray();
var myMac = VNode.Setting("mac", "52:54:00:12:34:56").Split(':').Select(h => Convert.ToByte(h, 16)).ToArray();
var acks = 0;

bool IsMine(byte[] f, int at) => f[at] == myIp[0] && f[at + 1] == myIp[1] && f[at + 2] == myIp[2] && f[at + 3] == myIp[3];

ushort Checksum(byte[] f, int start, int end)
{
    uint sum = 0;
    for (var i = start; i < end; i += 2) sum += (uint)(f[i] << 8 | (i + 1 < end ? f[i + 1] : 0));
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    return (ushort)~sum;
}

// A reply is written over the request in place (same buffer, same bytes where they agree); the length of the reply, 0 for none.
int ArpReply(byte[] f, int length)
{
    if (length < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 1 || !IsMine(f, 38)) return 0;
    for (var i = 0; i < 6; i++) { f[32 + i] = f[22 + i]; f[i] = f[6 + i]; f[6 + i] = myMac[i]; f[22 + i] = myMac[i]; }
    f[21] = 2;                                                  // reply
    for (var i = 0; i < 4; i++) { f[38 + i] = f[28 + i]; f[28 + i] = myIp[i]; }
    Metrics.Inc("arp_replies");
    return 42;
}

int EchoReply(byte[] f, int length)
{
    if (length < 42 || f[12] != 0x08 || f[13] != 0x00 || f[14] >> 4 != 4 || f[23] != 1 || !IsMine(f, 30)) return 0;
    int ihl = (f[14] & 0x0f) * 4, icmp = 14 + ihl, total = f[16] << 8 | f[17];
    if (f[icmp] != 8 || 14 + total > length || Checksum(f, 14, icmp) != 0) return 0;
    for (var i = 0; i < 6; i++) { f[i] = f[6 + i]; f[6 + i] = myMac[i]; }
    for (var i = 0; i < 4; i++) { var a = f[26 + i]; f[26 + i] = f[30 + i]; f[30 + i] = a; }
    f[22] = 64;
    f[24] = 0; f[25] = 0;
    var ipSum = Checksum(f, 14, icmp); f[24] = (byte)(ipSum >> 8); f[25] = (byte)ipSum;
    f[icmp] = 0; f[icmp + 2] = 0; f[icmp + 3] = 0;
    var icmpSum = Checksum(f, icmp, 14 + total); f[icmp + 2] = (byte)(icmpSum >> 8); f[icmp + 3] = (byte)icmpSum;
    Metrics.Inc("echo_replies");
    return 14 + total;
}

// A burst per call: every RxPacket's frame is read into one array, the reply written back over it (length 0: nothing to
// send, the buffer only goes home), and the whole burst goes back to net-bridge as TxPackets in one call.
var frame = new byte[2048];
Ipc.ServeBurst("svc://aethernet", b =>
{
    for (var i = 0; i < b.Count; i++)
    {
        if (b.Type(i) == "TxPacketAck") { acks++; continue; }
        if (b.Type(i) != "RxPacket" || !b.HasFrame(i)) continue;
        Metrics.Inc("packets_rx");
        var length = b.Read(i, frame);
        var reply = ArpReply(frame, length);
        if (reply == 0) reply = EchoReply(frame, length);
        if (reply == 0) Metrics.Inc("dropped");
        else Metrics.Inc("packets_tx");
        b.Write(i, frame, reply);
    }
    Ipc.Forward("svc://net-bridge", "TxPacket", b);
});
$"aethernet at {cidr}"
