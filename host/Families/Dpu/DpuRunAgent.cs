using NicScript.Driver;
using NicScript.Driver.Devices.Dpu;
using NicScript.Host.Families.Dpu.Agent;
using Serilog;

namespace NicScript.Host.Families.Dpu;

/// <summary>The DPU agent of one run, which the <c>dpu</c> handles and <c>--dpu-listen</c> share: made on first use, its
/// state in the given folder or in a throwaway one that goes with it.</summary>
internal sealed class DpuRunAgent : IAsyncDisposable
{
    private readonly Lazy<DpuAgent> _agent;
    private readonly string? _throwaway;
    private DpuServer? _server;

    /// <param name="stateDirectory">The agent's state folder (<c>--dpu-state</c>), or null for a throwaway one.</param>
    public DpuRunAgent(Machine machine, DpuConfig config, string? stateDirectory, ILogger log)
    {
        _throwaway = stateDirectory is null ? Path.Combine(Path.GetTempPath(), "nicscript-dpu-" + Guid.NewGuid().ToString("n")) : null;
        _agent = new Lazy<DpuAgent>(() => new DpuAgent(new DpuDevice(machine, config, VirtioDpuFunctions.Instance), new DpuStore(stateDirectory ?? _throwaway!), log));
    }

    /// <summary>The agent, made now if no one asked before.</summary>
    public DpuAgent Agent => _agent.Value;

    /// <summary>Serves the agent on gRPC at <paramref name="listen"/> until disposed.</summary>
    /// <returns>Where it listens (the real port when 0 was asked for).</returns>
    /// <exception cref="UserErrorException">An address this host cannot listen on, naming <paramref name="option"/>.</exception>
    public async Task<string> ListenAsync(string listen, string option)
    {
        _server = await DpuServer.StartAsync(Agent, listen, option).ConfigureAwait(false);
        return _server.Address;
    }

    /// <summary>Stops the server first, then closes the agent (if one was made) and deletes a throwaway state folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
        if (_agent.IsValueCreated) _agent.Value.Dispose();
        if (_throwaway is not null && Directory.Exists(_throwaway)) Directory.Delete(_throwaway, recursive: true);
    }
}
