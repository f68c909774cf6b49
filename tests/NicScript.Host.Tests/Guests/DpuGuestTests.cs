using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using NicScript.Driver;
using NicScript.Driver.Devices;
using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Pci;
using NicScript.Driver.VfioUser;
using NicScript.Driver.Wire;
using NicScript.Dpu.V1;
using NicScript.Host.Tests.Dpu;
using Xunit.Abstractions;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Guests;

/// <summary>The DPU's functions, made by <c>nicscript apply</c> through the agent as a cloud's control plane makes them,
/// driven by an unmodified Linux guest over vfio-user: a vdisk bound by <c>virtio_blk</c>, an elastic NIC bound by
/// <c>virtio_net</c> whose frames go through the DPU's switch and a metered rule out of an optical port. The Linux drivers are the judges of the models here; the
/// agent never learns a guest is there (the function's address is exported before the agent makes it).</summary>
[Collection(NonParallel.Name)]
public sealed class DpuGuestTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Vdisk_MadeByApply_GuestWriteLandsInTheBackingFileAndHostMarkerIsRead()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        var clock = Stopwatch.StartNew();
        await using DpuAgentFixture f = await StartAsync();
        using var dir = new TempDir();
        const uint pvf = 3;
        GuestMemory memory = f.Machine.ExportToGuest(DpuDevice.VdiskAddress(pvf));
        await Apply(f, dir, $$"""
            kind: dpu_state
            version: 1
            vdisks:
              - { name: guest-root, pvf_id: {{pvf}}, size: 1MiB }
            """);
        Assert.Equal(2048ul, (await f.Vdisk.VdiskGetPvfCfgAsync(new VdiskGetPvfCfgRequest { PvfId = pvf })).SectorNum);
        string backing = f.Agent.VdiskBackingFile(pvf);
        UnlockedFile.Write(backing, 0, Encoding.ASCII.GetBytes("host-marker-4242")); // the live disk holds its file locked
        using var server = new VfioUserServer(Model(f.Machine, DpuDevice.VdiskAddress(pvf)), memory, dir.File("vdisk.sock"), f.Machine.Events);
        var options = new GuestBootOptions("blk")
        {
            Devices = [GuestDevice.VfioUser("disk0", server.SocketPath)],
            Parameters = new Dictionary<string, string> { ["write"] = "guest-pattern-77", ["wsector"] = "8", ["rsector"] = "0" },
        };

        GuestRun run = GuestVm.Run(guest, options, output);

        Assert.True(run.Value("blk-read") == "host-marker-4242", run.Explain($"the guest read \"{run.Value("blk-read")}\" at sector 0"));
        Assert.True(run.Completed, run.Explain("the blk scenario did not finish"));
        Assert.Equal("guest-pattern-77", Encoding.ASCII.GetString(UnlockedFile.Read(backing, 8 * 512, "guest-pattern-77".Length)));
        Assert.Null(server.LastCloseReason);
        output.WriteLine($"vdisk guest test: {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [SkippableFact]
    public async Task ElasticNic_MadeByApply_GuestSendsThroughTheSwitchAndTheMeterLimitsItOutOfAnOpticalPort()
    {
        GuestEnvironment guest = GuestEnvironment.Require();
        var clock = Stopwatch.StartNew();
        await using DpuAgentFixture f = await StartAsync();
        using var dir = new TempDir();
        const uint vport = 2, meterId = 7;
        const int rule = 10, frames = 200;
        GuestMemory memory = f.Machine.ExportToGuest(DpuDevice.ElasticNicAddress(vport));
        // the meter: 1 packet/s, burst 16 (reference/dpu.md §5.5): the guest would have to take over 3 minutes for its 200
        // requests to all pass, so it must drop whatever the load. The rule sends them out of optical port 1, which default
        // forwarding never uses (the uplink is optical port 0 while the bond is off)
        await Apply(f, dir, $$"""
            kind: dpu_state
            version: 1
            ports:
              - { uuid: vm-guest-eth0, vport: {{vport}}, mtu: 1500, max_qpair: 4 }
            meters:
              - { id: {{meterId}}, rate: 1pps }
            rules:
              - key_index: {{rule}}
                match: { in_port: "vport:{{vport}}", dip: 10.9.0.2/32, protocol: icmp }
                action: { port: "optical:1", queue: any, meter: {{meterId}} }
            """);
        using var soc = new FrameGenerator(f.Machine.Links.Single(l => l.Name == "dpu-soc0"));
        using var metered = new FrameGenerator(f.Machine.Links.Single(l => l.Name == "dpu-optical1")); // the outside world behind optical port 1
        using var outside = new EchoResponder(f.Agent.Device.Switch.OpticalWire(0));
        using var server = new VfioUserServer(Model(f.Machine, DpuDevice.ElasticNicAddress(vport)), memory, dir.File("nic.sock"), f.Machine.Events);
        var options = new GuestBootOptions("send")
        {
            Devices = [GuestDevice.VfioUser("nic0", server.SocketPath)],
            Parameters = new Dictionary<string, string> { ["count"] = $"{frames}", ["interval"] = "0.01", ["echo"] = "10.9.0.3", ["echo_count"] = "20" },
            KernelArguments = "ipv6.disable=1", // no router solicitations or MLD: the guest sends only what the test asks
            QemuArguments = ["-smp", "2"], // two CPUs: virtio_net enables two of the four queue pairs through the control queue
        };

        using GuestVm vm = GuestVm.Start(guest, options, output);
        Assert.Equal($"{frames}", vm.WaitFor("sent"));
        uint activePairs = (await f.Nic.GetPortCfgAsync(new GetPortCfgRequest { Vport = vport })).ActiveQpair; // while the guest's driver holds it
        GuestRun run = vm.WaitForExit();

        Assert.True(run.Value("sent") == $"{frames}", run.Explain($"the guest sent \"{run.Value("sent")}\" echo requests"));
        Assert.True(run.Value("echo") == "20/20", run.Explain($"pings out of optical port 0: {run.Value("echo")}")); // unmatched: default forwarding, both ways
        Assert.True(run.Completed, run.Explain("the send scenario did not finish"));
        EthMacGetStatsResponse optical = await f.Optical.EthMacGetStatsAsync(new EthMacGetStatsRequest { PortId = 0 });
        EthMacGetStatsResponse target = await f.Optical.EthMacGetStatsAsync(new EthMacGetStatsRequest { PortId = 1 });
        MeterGetResponse meter = await f.Meter.MeterGetAsync(new MeterGetRequest { Id = meterId });
        ClassifierReadResponse hits = await f.Traffic.ClassifierReadAsync(new ClassifierReadRequest { KeyIndex = rule });
        GetPortStatsResponse port = await f.Stats.GetPortStatsAsync(new GetPortStatsRequest { Vid = vport });
        GetPortStatsResponse socPort = await f.Stats.GetPortStatsAsync(new GetPortStatsRequest { Vid = DpuSwitch.SocBase });
        DpuMeter bucket = f.Agent.Device.Switch.Meter(meterId)!;
        output.WriteLine($"meter: pass {meter.PassPackets} drop {meter.DropPackets}, burst {bucket.Burst} + credited {bucket.Credited}; rule hits {hits.HitPackets}; " +
            $"vport tx {port.TxPackets}; optical 1 out {target.Opackets} (oerrors {target.Oerrors}), its far end got {metered.Received}; " +
            $"optical 0 out {optical.Opackets} in {optical.Ipackets}; SoC 0 rx {socPort.RxPackets}");
        Assert.Equal(2u, activePairs);
        Assert.Equal((ulong)frames + 20, port.TxPackets); // every echo request went into the switch
        Assert.Equal(20ul, port.RxPackets);
        Assert.Equal((20ul, 20ul), (optical.Opackets, optical.Ipackets));
        Dictionary<string, string> guestCounters = run.Value("counters").Split(' ').Select(c => c.Split('=')).ToDictionary(c => c[0], c => c[1]);
        Assert.Equal((port.TxPackets.ToString(), port.RxPackets.ToString()), (guestCounters["tx_packets"], guestCounters["rx_packets"])); // the guest's and the DPU's view agree
        Assert.Equal((ulong)frames, hits.HitPackets);
        Assert.Equal((ulong)frames, meter.PassPackets + meter.DropPackets);
        Assert.True(meter.DropPackets > 0, "the meter dropped nothing");
        // the rate, from the meter's own bucket rather than a clock: green ≤ the burst it started with + the tokens it gained
        Assert.InRange((long)meter.PassPackets, bucket.Burst, bucket.Burst + bucket.Credited);
        Assert.Equal((meter.PassPackets, 0ul), (target.Opackets, target.Oerrors)); // the green ones left through optical port 1
        Assert.Equal((long)meter.PassPackets, metered.Received);
        Assert.Equal((0ul, 0L), (socPort.RxPackets, soc.Received)); // nothing of it went to the SoC
        Assert.Null(server.LastCloseReason);
        output.WriteLine($"elastic NIC guest test: {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>The outside world at the far end of an optical port: answers every IPv4 echo request (the guest set its
    /// neighbours' MACs by hand, so no ARP), from its own thread as a remote host would: not inside the switch's delivery,
    /// and not on the thread pool, which the blocking guest waits of a test can starve for the best part of a second.</summary>
    private sealed class EchoResponder : IFrameReceiver, IDisposable
    {
        private readonly Link _link;
        private readonly WirePort _port;
        private readonly System.Collections.Concurrent.BlockingCollection<byte[]> _replies = new();
        private readonly Thread _sender;

        public EchoResponder(Link link)
        {
            _link = link;
            _port = link.Attach(this);
            _sender = new Thread(() =>
            {
                foreach (byte[] reply in _replies.GetConsumingEnumerable()) _port.Transmit(reply);
            }) { IsBackground = true, Name = "echo responder" };
            _sender.Start();
        }

        public void Receive(ReadOnlySpan<byte> frame)
        {
            if (frame.Length < 14 + 20 + 8 || frame[12] != 0x08 || frame[13] != 0x00 || frame[23] != 1) return; // IPv4 ICMP
            int ip = 14, icmp = ip + (frame[ip] & 0xF) * 4;
            if (frame[icmp] != 8) return; // echo request
            byte[] reply = frame.ToArray();
            frame[6..12].CopyTo(reply.AsSpan(0));
            frame[..6].CopyTo(reply.AsSpan(6));
            frame.Slice(ip + 16, 4).CopyTo(reply.AsSpan(ip + 12)); // the addresses swap: the IP checksum stays
            frame.Slice(ip + 12, 4).CopyTo(reply.AsSpan(ip + 16));
            reply[icmp] = 0;
            reply[icmp + 2] = reply[icmp + 3] = 0;
            int sum = 0;
            for (int i = icmp; i < reply.Length; i += 2) sum += (reply[i] << 8) | (i + 1 < reply.Length ? reply[i + 1] : 0);
            while (sum > 0xFFFF) sum = (sum & 0xFFFF) + (sum >> 16);
            reply[icmp + 2] = (byte)(~sum >> 8);
            reply[icmp + 3] = (byte)~sum;
            _replies.Add(reply);
        }

        public void Dispose()
        {
            _replies.CompleteAdding();
            _sender.Join();
            _link.Detach(_port);
            _replies.Dispose();
        }
    }

    /// <summary><c>nicscript apply</c> of <paramref name="state"/> against the fixture's agent, in this process.</summary>
    private async Task Apply(DpuAgentFixture f, TempDir dir, string state)
    {
        var text = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(text) });
        string[] args = ["apply", dir.Write("dpu.yml", state), "--target", f.Target];
        int exit = await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, text, text), args);
        output.WriteLine(text.ToString());
        Assert.True(exit == 0, $"apply failed: {text}");
    }

    private static IDeviceModel Model(Machine machine, PciAddress address)
    {
        Assert.True(machine.Pci.TryGet(address, out PciFunction function));
        return machine.DeviceOf(function) ?? throw new InvalidOperationException($"no device model at {address}");
    }

    /// <summary>The host's own access to a disk's backing file while the disk's function holds it (the model opens it
    /// exclusively, which .NET enforces with <c>flock</c>; plain <c>pread</c>/<c>pwrite</c> on a fresh descriptor are
    /// what another host process, <c>dd</c> for one, would do).</summary>
    private static class UnlockedFile
    {
        private const int ReadOnly = 0, ReadWrite = 2;

        [DllImport("libc", SetLastError = true)]
        private static extern int open(string path, int flags);

        [DllImport("libc", SetLastError = true)]
        private static extern nint pread(int fd, byte[] buffer, nint count, long offset);

        [DllImport("libc", SetLastError = true)]
        private static extern nint pwrite(int fd, byte[] buffer, nint count, long offset);

        [DllImport("libc")]
        private static extern int close(int fd);

        public static void Write(string path, long offset, byte[] data)
        {
            int fd = Open(path, ReadWrite);
            try { Assert.Equal(data.Length, (int)pwrite(fd, data, data.Length, offset)); }
            finally { close(fd); }
        }

        public static byte[] Read(string path, long offset, int count)
        {
            int fd = Open(path, ReadOnly);
            var data = new byte[count];
            try { Assert.Equal(count, (int)pread(fd, data, count, offset)); }
            finally { close(fd); }
            return data;
        }

        private static int Open(string path, int flags)
        {
            int fd = open(path, flags);
            if (fd < 0) throw new IOException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
            return fd;
        }
    }
}
