using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>The agent's memory stays flat while clients create and delete ports: nothing of a deleted port is kept.</summary>
[Collection(NonParallel.Name)] // measures the whole managed heap: no other test may allocate beside it
public sealed class PortChurnMemoryTests
{
    /// <summary>3000 pairs may leave at most this much: a leak of 95 KB per pair would be 285 MB, one of 4 KB still 12 MB.</summary>
    private const long Bound = 8L * 1024 * 1024;

    [Fact]
    public async Task NewPortDelPort_3000PairsOverGrpc_ManagedHeapStaysFlat()
    {
        await using DpuAgentFixture f = await StartAsync();
        async Task ChurnAsync(int pairs, int clients)
        {
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                for (int i = 0; i < pairs / clients; i++)
                {
                    uint vport = (uint)(c + 1);
                    PortOpsRep made = await f.Nic.NewPortAsync(new NewPortRequest { Uuid = $"churn-{c}-{i}", Vport = vport, MaxQpair = 2 });
                    Assert.Equal(Ok, made.Status);
                    PortOpsRep gone = await f.Nic.DelPortAsync(new DelPortRequest { Vport = vport });
                    Assert.Equal(Ok, gone.Status);
                }
            }));
        }
        await ChurnAsync(400, 4); // warm up: pools, JIT, SQLite's statement cache and the WAL reach their working size
        int interrupts = f.Machine.Interrupts.Count; // after the first port made the elastic NICs' INTx line
        long before = Settled();
        await ChurnAsync(3000, 4);
        long growth = Settled() - before;
        Assert.True(growth < Bound, $"the managed heap grew {growth / 1024} KiB over 3000 NewPort+DelPort pairs ({growth / 3000} bytes a pair)");
        Assert.Empty(f.Agent.State.Ports);
        Assert.Equal(interrupts, f.Machine.Interrupts.Count); // a removed function's MSI-X vectors are gone with it
    }

    private static long Settled()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
