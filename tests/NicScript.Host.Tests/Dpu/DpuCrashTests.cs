using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using NicScript.Dpu.V1;

namespace NicScript.Host.Tests.Dpu;

/// <summary>
/// DPU-63: a real <c>nicscript serve</c> process killed with SIGKILL at a random moment under 4 concurrent clients; after a
/// restart on the same state directory every acknowledged change is there, the one in flight is wholly there or wholly not,
/// and the cross-object invariants hold.
/// </summary>
[Collection(NonParallel.Name)]
public sealed class DpuCrashTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static Process Serve(string state, int port)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        var psi = new ProcessStartInfo("dotnet", ["exec", dll, "serve", "--state", state, "--listen", $"127.0.0.1:{port}"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        };
        Process p = Process.Start(psi)!;
        var ready = new TaskCompletionSource();
        p.ErrorDataReceived += (_, e) => { if (e.Data?.Contains("listening on", StringComparison.Ordinal) == true) ready.TrySetResult(); };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        if (!ready.Task.Wait(TimeSpan.FromSeconds(30))) throw new InvalidOperationException("the agent did not start");
        return p;
    }

    /// <summary>What one client believes: its meters (id → rate) and rules (key → meter), from replies with status 0.</summary>
    private sealed class Client(int n)
    {
        public readonly Dictionary<uint, uint> Meters = new();
        public readonly Dictionary<int, uint> Rules = new();
        public (string Kind, long Key)? InFlight;
        public int Acknowledged;

        public async Task RunAsync(GrpcChannel channel, Random rnd, CancellationToken stop)
        {
            var meters = new MeterService.MeterServiceClient(channel);
            var traffic = new TrafficControlService.TrafficControlServiceClient(channel);
            while (!stop.IsCancellationRequested)
            {
                uint id = (uint)(n * 100 + rnd.Next(8));
                int key = n * 100 + rnd.Next(8);
                try
                {
                    switch (rnd.Next(6))
                    {
                        case 0:
                        case 1:
                            uint rate = (uint)rnd.Next(0, 5); // 0 is invalid: refused, changes nothing
                            InFlight = ("meter", id);
                            MeterOpsRsp add = await meters.MeterAddAsync(new MeterAddRequest { Id = id, Rate = rate });
                            if (add.Status == 0) Meters[id] = rate;
                            Acknowledged += add.Status == 0 ? 1 : 0;
                            break;
                        case 2:
                            InFlight = ("meter", id);
                            uint newRate = (uint)rnd.Next(1, 5);
                            MeterOpsRsp up = await meters.MeterUpdateAsync(new MeterUpdateRequest { Id = id, Rate = newRate });
                            if (up.Status == 0) Meters[id] = newRate;
                            break;
                        case 3:
                            InFlight = ("meter", id);
                            if ((await meters.MeterDelAsync(new MeterDelRequest { Id = id })).Status == 0) Meters.Remove(id);
                            break;
                        case 4:
                            InFlight = ("rule", key);
                            var action = new RuleAction { Vid = -1, Qid = -1, MeterId = id };
                            ClassifierOpsRsp w = await traffic.ClassifierWriteAsync(new ClassifierWriteRequest { KeyIndex = key, MaskRuleKey = new MaskRuleKey(), Action = action });
                            if (w.Status == 0) Rules[key] = id;
                            break;
                        default:
                            InFlight = ("rule", key);
                            if ((await traffic.ClassifierDeleteAsync(new ClassifierDeleteRequest { KeyIndex = key })).Status == 0) Rules.Remove(key);
                            break;
                    }
                    InFlight = null;
                }
                catch (RpcException)
                {
                    return; // the agent died under us: InFlight is the one change that may or may not have happened
                }
            }
        }
    }

    [Fact]
    public async Task DPU_63_sigkill_at_random_moments_loses_no_acknowledged_change_and_half_applies_nothing()
    {
        AppContext.SetSwitch("System.Net.Http.SocketsHttpHandler.Http2UnencryptedSupport", true);
        int runs = 0, acknowledged = 0;
        for (int seed = 1; seed <= 20; seed++)
        {
            using var dir = new TempDir();
            string state = Path.Combine(dir.Path, "state");
            int port = FreePort();
            var rnd = new Random(seed);
            Client[] clients = Enumerable.Range(0, 4).Select(n => new Client(n)).ToArray();
            using (Process agent = Serve(state, port))
            using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}"))
            using (var stop = new CancellationTokenSource())
            {
                Task[] running = clients.Select((c, i) => c.RunAsync(channel, new Random(seed * 10 + i), stop.Token)).ToArray();
                await Task.Delay(100 + rnd.Next(400));
                agent.Kill(); // SIGKILL: no shutdown path runs
                await agent.WaitForExitAsync();
                stop.Cancel();
                await Task.WhenAll(running);
            }
            using (Process agent = Serve(state, port))
            using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}"))
            {
                var meters = new MeterService.MeterServiceClient(channel);
                var traffic = new TrafficControlService.TrafficControlServiceClient(channel);
                MeterListResponse ml = await meters.MeterListAsync(new MeterListRequest());
                ClassifierListResponse rl = await traffic.ClassifierListAsync(new ClassifierListRequest());
                var storedMeters = ml.Meters.ToDictionary(m => m.Id, m => m.Rate);
                var storedRules = rl.Rules.ToDictionary(r => r.MaskRuleKey.KeyIndex, r => r.Action.MeterId);
                foreach (Client c in clients)
                {
                    acknowledged += c.Acknowledged;
                    foreach (uint id in Enumerable.Range(0, 4).SelectMany(n => Enumerable.Range(0, 8).Select(k => (uint)(n * 100 + k))).Where(id => id / 100 == Array.IndexOf(clients, c)))
                    {
                        if (c.InFlight is ("meter", var k) && k == id) continue; // either outcome is whole
                        Assert.Equal(c.Meters.TryGetValue(id, out uint rate) ? rate : (uint?)null, storedMeters.TryGetValue(id, out uint s) ? s : null);
                    }
                    foreach (int key in Enumerable.Range(Array.IndexOf(clients, c) * 100, 8))
                    {
                        if (c.InFlight is ("rule", var k) && k == key) continue;
                        Assert.Equal(c.Rules.TryGetValue(key, out uint m) ? m : (uint?)null, storedRules.TryGetValue(key, out uint s) ? s : null);
                    }
                }
                foreach (MeterGetResponse m in ml.Meters) Assert.Equal((uint)rl.Rules.Count(r => r.Action.MeterId == m.Id), m.RefCnt);
                Assert.All(rl.Rules, r => Assert.True(storedMeters.ContainsKey(r.Action.MeterId), $"rule {r.MaskRuleKey.KeyIndex} names a missing meter"));
                MeterCapabilityResponse cap = await meters.MeterCapabilityAsync(new MeterCapabilityRequest());
                Assert.Equal(cap.Total - (uint)ml.Meters.Count, cap.Free);
                agent.Kill();
                await agent.WaitForExitAsync();
            }
            runs++;
        }
        Assert.Equal(20, runs);
        Assert.True(acknowledged > 0);
    }
}
