using Grpc.Core;
using Grpc.Net.Client;
using NicScript.Dpu.V1;

namespace NicScript.Host.Families.Dpu.Declarative;

/// <summary>The six services' clients over one channel; a call's outcome is its status and the <c>nicscript-detail</c> trailer.</summary>
internal sealed class DpuClient(GrpcChannel channel)
{
    public readonly ElasticNicService.ElasticNicServiceClient Nic = new(channel);
    public readonly VdiskService.VdiskServiceClient Vdisk = new(channel);
    public readonly MeterService.MeterServiceClient Meter = new(channel);
    public readonly TrafficControlService.TrafficControlServiceClient Traffic = new(channel);
    public readonly OpticalPortService.OpticalPortServiceClient Optical = new(channel);

    public static async Task<(T Reply, string Detail)> Call<T>(AsyncUnaryCall<T> call)
    {
        using (call)
        {
            T reply = await call.ResponseAsync.ConfigureAwait(false);
            return (reply, call.GetTrailers().GetValue("nicscript-detail") ?? "");
        }
    }
}
