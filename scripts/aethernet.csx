// aethernet.csx — aethernet-service: an IPv4 address and a MAC behind net-bridge. Answers ARP requests and ICMP echo
// requests for its address by rewriting the request's own buffer into the reply (no copy), drops and counts the rest,
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

byte[]? ArpReply(byte[] f)
{
    if (f.Length < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 1 || !IsMine(f, 38)) return null;
    var r = f[..42];
    for (var i = 0; i < 6; i++) { r[i] = f[6 + i]; r[6 + i] = myMac[i]; r[22 + i] = myMac[i]; r[32 + i] = f[22 + i]; }
    r[21] = 2;                                                  // reply
    for (var i = 0; i < 4; i++) { r[28 + i] = myIp[i]; r[38 + i] = f[28 + i]; }
    Metrics.Inc("arp_replies");
    return r;
}

byte[]? EchoReply(byte[] f)
{
    if (f.Length < 42 || f[12] != 0x08 || f[13] != 0x00 || f[14] >> 4 != 4 || f[23] != 1 || !IsMine(f, 30)) return null;
    int ihl = (f[14] & 0x0f) * 4, icmp = 14 + ihl, total = f[16] << 8 | f[17];
    if (f[icmp] != 8 || 14 + total > f.Length || Checksum(f, 14, icmp) != 0) return null;
    var r = f[..(14 + total)];
    for (var i = 0; i < 6; i++) { r[i] = f[6 + i]; r[6 + i] = myMac[i]; }
    for (var i = 0; i < 4; i++) { r[26 + i] = f[30 + i]; r[30 + i] = f[26 + i]; }
    r[22] = 64;
    r[24] = 0; r[25] = 0;
    var ipSum = Checksum(r, 14, icmp); r[24] = (byte)(ipSum >> 8); r[25] = (byte)ipSum;
    r[icmp] = 0; r[icmp + 2] = 0; r[icmp + 3] = 0;
    var icmpSum = Checksum(r, icmp, 14 + total); r[icmp + 2] = (byte)(icmpSum >> 8); r[icmp + 3] = (byte)icmpSum;
    Metrics.Inc("echo_replies");
    return r;
}

Ipc.Serve("svc://aethernet", m =>
{
    if (m.Type == "TxPacketAck") { acks++; return; }
    if (m.Type != "RxPacket" || m.Frame is null) return;
    Metrics.Inc("packets_rx");
    var request = m.Frame.Read();
    var reply = ArpReply(request) ?? EchoReply(request);
    if (reply is null)
    {
        Metrics.Inc("dropped");
        m.Frame.Write(new byte[0]);                             // nothing to send: length 0 gives the buffer back
    }
    else
    {
        m.Frame.Write(reply);                                   // the reply goes out of the request's own buffer
        Metrics.Inc("packets_tx");
    }
    Ipc.Send("svc://net-bridge", "TxPacket", null, m.Frame);
});
$"aethernet at {cidr}"
