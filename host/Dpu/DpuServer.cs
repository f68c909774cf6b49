using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NicScript.Host.Dpu;

/// <summary>The agent on Kestrel: HTTP/2 without TLS, the six services, gRPC server reflection (reference §7 "Listening").</summary>
public sealed class DpuServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DpuServer(WebApplication app, DpuAgent agent)
    {
        _app = app;
        Agent = agent;
    }

    public DpuAgent Agent { get; }

    /// <summary>Where it listens, e.g. <c>http://127.0.0.1:50051</c> (the real port when 0 was asked for).</summary>
    public string Address => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <exception cref="UserErrorException">A listen address that is not <c>HOST:PORT</c>, or one that is taken.</exception>
    public static async Task<DpuServer> StartAsync(DpuAgent agent, string listen)
    {
        int colon = listen.LastIndexOf(':');
        if (colon <= 0 || !IPAddress.TryParse(listen[..colon], out IPAddress? ip) || !int.TryParse(listen[(colon + 1)..], out int port) || port is < 0 or > 65535)
            throw new UserErrorException($"--listen {listen}: expected IP:PORT, e.g. 127.0.0.1:50051");
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(ip, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton(agent);
        WebApplication app = builder.Build();
        app.MapGrpcService<ElasticNicRpc>();
        app.MapGrpcService<VdiskRpc>();
        app.MapGrpcService<MeterRpc>();
        app.MapGrpcService<TrafficControlRpc>();
        app.MapGrpcService<PortStatsRpc>();
        app.MapGrpcService<OpticalPortRpc>();
        app.MapGrpcReflectionService();
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new UserErrorException($"--listen {listen}: {e.Message}");
        }
        return new DpuServer(app, agent);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
