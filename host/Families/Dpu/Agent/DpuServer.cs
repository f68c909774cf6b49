using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using NicScript.Host.Cli;

namespace NicScript.Host.Families.Dpu.Agent;

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

    /// <param name="option">The option that named <paramref name="listen"/> (<c>--listen</c>, <c>--dpu-listen</c>), for the error line.</param>
    /// <exception cref="UserErrorException">A listen address that is not <c>IP:PORT</c>, or one this host cannot listen on (taken, not
    /// one of its addresses): one line naming the address and the system's reason.</exception>
    public static async Task<DpuServer> StartAsync(DpuAgent agent, string listen, string option = "--listen")
    {
        IPEndPoint endpoint = ListenAddress.Parse(option, listen);
        var (ip, port) = (endpoint.Address, endpoint.Port);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(ip, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton(agent);
        WebApplication app = builder.Build();
        MalformedRequestGuard.Warm();
        app.UseMiddleware<MalformedRequestGuard>(); // a body that is not the request message: INVALID_ARGUMENT with the agent's trailers
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
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            string why = (e as System.Net.Sockets.SocketException ?? e.InnerException as System.Net.Sockets.SocketException)?.Message ?? e.Message;
            throw new UserErrorException($"{option} {listen}: cannot listen there: {why}");
        }
        return new DpuServer(app, agent);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
