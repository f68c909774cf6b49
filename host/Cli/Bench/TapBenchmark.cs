using NicScript.Driver.Devices.Virtio;
using System.Diagnostics;
using NicScript.Driver;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Host.Cli.Bench;

/// <summary>Two virtio-net NICs on two TAP devices joined by a Linux bridge in a namespace the bench makes and removes.</summary>
/// <remarks>
/// NIC A sends 64-byte frames to NIC B's MAC; each goes out with one write() on A's TAP, through the kernel's bridge,
/// and back in through B's TAP reader into B's RX ring. The row counts what B received. Root and /dev/net/tun only.
/// </remarks>
public static class TapBenchmark
{
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/dev/net/tun")) return "needs /dev/net/tun";
        string? uid = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal))?
            .Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        if (uid != "0") return "needs root";
        return Ip("-V").Exit == 0 ? null : "needs iproute2 (ip)";
    }

    public static BenchResult Run(TimeSpan duration)
    {
        string tag = Guid.NewGuid().ToString("n")[..6];
        string ns = "nsbench" + tag, tapA = "nbta" + tag, tapB = "nbtb" + tag;
        using var machine = new Machine("tap-bench");
        Link linkA = machine.AddLink(Links.Tap(tapA)), linkB = machine.AddLink(Links.Tap(tapB));
        try
        {
            Must(Ip("netns", "add", ns));
            Must(Ip("link", "set", tapA, "netns", ns));
            Must(Ip("link", "set", tapB, "netns", ns));
            Must(Ip("-n", ns, "link", "add", "br0", "type", "bridge"));
            foreach (string dev in new[] { tapA, tapB })
            {
                Must(Ip("-n", ns, "link", "set", dev, "master", "br0"));
                Must(Ip("-n", ns, "link", "set", dev, "up"));
            }
            Must(Ip("-n", ns, "link", "set", "br0", "up"));

            var aAddress = new PciAddress(0, 0, 0x1e, 0);
            VirtioNetDevice a = machine.Add(new VirtioNetDevice(aAddress, machine.Domain(aAddress), machine.Line(10), [0x52, 0x54, 0, 0, 0xbe, 0x0a], machine.Events), linkA);
            var bAddress = new PciAddress(0, 0, 0x1f, 0);
            VirtioNetDevice b = machine.Add(new VirtioNetDevice(bAddress, machine.Domain(bAddress), machine.Line(11), [0x52, 0x54, 0, 0, 0xbe, 0x0b], machine.Events), linkB);
            DmaOwner owner = machine.Dma.CreateOwner("bench", 64 << 20);
            VirtioNetDriver da = VirtioNetDriver.BringUp(a.Function, machine.Dma, owner);
            VirtioNetDriver db = VirtioNetDriver.BringUp(b.Function, machine.Dma, owner, queueSize: VirtioPci.MaxQueueSize); // room while A writes
            var tx = new FrameBurst(da.Pool);
            var rx = new FrameBurst(db.Pool);
            long received = 0;
            var clock = Stopwatch.StartNew();
            long deadline = (long)(duration.TotalSeconds * Stopwatch.Frequency);
            while (clock.ElapsedTicks < deadline)
            {
                tx.Fill();
                for (int i = 0; i < tx.Capacity; i++)
                {
                    Span<byte> f = tx.Buffer(i);
                    db.Mac.CopyTo(f);
                    da.Mac.CopyTo(f[6..]);
                    f[12] = 0x88; f[13] = 0xb5;
                    tx.SetLength(i, 64);
                }
                tx.Count = tx.Capacity;
                da.Tx(tx);
                received += db.RxPoll(rx);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Thread.Sleep(50);
            received += db.RxPoll(rx);
            return CoreBenchmarks.Row("tap", "core", 64, received, seconds, $"sent {da.TxFrames}, B dropped {b.Stats.RxDroppedCount} (no RX buffer)");
        }
        finally
        {
            Ip("netns", "del", ns); // the bridge goes with it; the TAP devices go when the machine closes them
        }
    }

    private static void Must((int Exit, string Error) r)
    {
        if (r.Exit != 0) throw new UserErrorException("tap bench: ip failed: " + r.Error.Trim());
    }

    private static (int Exit, string Error) Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        try
        {
            using Process p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, err);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, e.Message);
        }
    }
}
