using Google.Protobuf;
using Grpc.Core;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>A body that is not the rpc's request message gets INVALID_ARGUMENT with the agent's trailers, and the agent carries on.</summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private DpuAgentFixture _f = null!;

    public async Task InitializeAsync() => _f = await StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    /// <summary>A raw call: the bytes go on the wire as they are, so the server's own parser meets them.</summary>
    private async Task<RpcException> RawAsync(string service, string method, byte[] body)
    {
        var raw = new Marshaller<byte[]>(b => b, b => b);
        var m = new Method<byte[], byte[]>(MethodType.Unary, service, method, raw, raw);
        CallInvoker invoker = _f.Channel.CreateCallInvoker();
        return await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(m, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), body));
    }

    public static TheoryData<string, string, byte[]> Garbage()
    {
        // groups of field 1 nested 150 deep, each closed: well formed, but past protobuf's recursion limit of 100
        byte[] deep = [.. Enumerable.Repeat((byte)0x0B, 150), .. Enumerable.Repeat((byte)0x0C, 150)];
        return new()
        {
            { "nicscript.dpu.v1.ElasticNicService", "NewPort", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },          // an invalid tag
            { "nicscript.dpu.v1.ElasticNicService", "DelPort", [0x0A, 0x64, 0x41] },                      // a string of 100 bytes, 1 given
            { "nicscript.dpu.v1.VdiskService", "VdiskCreate", "not protobuf at all, just text"u8.ToArray() },
            { "nicscript.dpu.v1.TrafficControlService", "ClassifierWrite", [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01] }, // an 11-byte varint
            { "nicscript.dpu.v1.MeterService", "MeterAdd", [0x0B] },                                      // a group start with no end
            { "nicscript.dpu.v1.OpticalPortService", "EthMacSetMtu", [0x0F] },                           // wire type 7
            { "nicscript.dpu.v1.TrafficControlService", "ClassifierWrite", deep },
        };
    }

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task Call_BodyNotProtobuf_InvalidArgumentWithAgentTrailers(string service, string method, byte[] body)
    {
        RpcException e = await RawAsync(service, method, body);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", e.Trailers.GetValue("nicscript-status"));
        string? detail = e.Trailers.GetValue("nicscript-detail");
        Assert.False(string.IsNullOrEmpty(detail));
        Assert.DoesNotContain("Exception was thrown by handler", e.Status.Detail);
        // and the agent still answers a good request
        PortOpsRep ok = await _f.Nic.NewPortAsync(new NewPortRequest { Uuid = "after-" + method, Vport = 3, Mac = Google.Protobuf.ByteString.CopyFrom(2, 0, 0, 0, 0, 3), Mtu = 1500 });
        Assert.Equal(Ok, ok.Status);
    }

    [Fact]
    public async Task Call_FrameLengthLies_InvalidArgumentNamesTheFrame()
    {
        using var http = new HttpClient(new SocketsHttpHandler());
        byte[] frame = [0, 0, 0, 0, 100, 0x0A, 0x01, 0x41]; // says 100 bytes, carries 3
        using var request = new HttpRequestMessage(HttpMethod.Post, _f.Server.Address + "/nicscript.dpu.v1.ElasticNicService/DelPort") 
        {
            Content = new ByteArrayContent(frame), Version = System.Net.HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");
        using HttpResponseMessage response = await http.SendAsync(request);
        _ = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("3", response.TrailingHeaders.GetValues("grpc-status").Single());
        Assert.Equal("INVALID_ARGUMENT", response.TrailingHeaders.GetValues("nicscript-status").Single());
        Assert.Contains("100 bytes", response.TrailingHeaders.GetValues("nicscript-detail").Single());
    }

    [Fact]
    public async Task Call_ValidRequestThroughRawBytes_IsServedAsUsual()
    {
        var raw = new Marshaller<byte[]>(b => b, b => b);
        var m = new Method<byte[], byte[]>(MethodType.Unary, "nicscript.dpu.v1.ElasticNicService", "NewPort", raw, raw);
        byte[] good = new NewPortRequest { Uuid = "raw-good", Vport = 5, Mac = Google.Protobuf.ByteString.CopyFrom(2, 0, 0, 0, 0, 5), Mtu = 1500 }.ToByteArray();
        byte[] reply = await _f.Channel.CreateCallInvoker().AsyncUnaryCall(m, null, new CallOptions(), good);
        Assert.Equal(Ok, PortOpsRep.Parser.ParseFrom(reply).Status);
    }
}
