using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using NicScript.Dpu.V1;
using static NicScript.Host.Tests.Dpu.DpuAgentFixture;

namespace NicScript.Host.Tests.Dpu;

/// <summary>DPU-71's second half: a client generated from the seed's proto2 text talks to the agent and accepts its replies as initialized.</summary>
public sealed class DpuSeedClientTests
{
    private static Method<TReq, TRes> Unary<TReq, TRes>(string name, MessageParser<TReq> req, MessageParser<TRes> res)
        where TReq : class, IMessage<TReq> where TRes : class, IMessage<TRes> =>
        new(MethodType.Unary, "nicscript.dpu.v1.ElasticNicService", name,
            Marshallers.Create<TReq>(m => m.ToByteArray(), req.ParseFrom), Marshallers.Create<TRes>(m => m.ToByteArray(), res.ParseFrom));

    [Fact]
    public async Task DPU_71_a_proto2_client_from_the_seed_gets_initialized_replies()
    {
        await using DpuAgentFixture f = await StartAsync();
        CallInvoker invoker = f.Channel.CreateCallInvoker();
        Seed.PortOpsRep created = await invoker.AsyncUnaryCall(Unary("NewPort", Seed.NewPortRequest.Parser, Seed.PortOpsRep.Parser), null, new CallOptions(), new Seed.NewPortRequest { Uuid = "seed" });
        Assert.True(created.IsInitialized(), "PortOpsRep{status 0, vport 0} must carry both required fields");
        Assert.Equal((0u, 0u), (created.Status, created.Vport));
        Seed.GetPortCfgResponse cfg = await invoker.AsyncUnaryCall(Unary("GetPortCfg", Seed.GetPortCfgRequest.Parser, Seed.GetPortCfgResponse.Parser), null, new CallOptions(), new Seed.GetPortCfgRequest { Vport = 0 });
        Assert.True(cfg.IsInitialized());
        Assert.Equal(("seed", 1500u, 0u), (cfg.Uuid, cfg.Mtu, cfg.ActiveQpair));
        Seed.GetPortCfgResponse missing = await invoker.AsyncUnaryCall(Unary("GetPortCfg", Seed.GetPortCfgRequest.Parser, Seed.GetPortCfgResponse.Parser), null, new CallOptions(), new Seed.GetPortCfgRequest { Vport = 9 });
        Assert.True(missing.IsInitialized()); // an error reply too: zeros are sent, not left out
        Assert.Equal(1u, missing.Status);
    }
}
