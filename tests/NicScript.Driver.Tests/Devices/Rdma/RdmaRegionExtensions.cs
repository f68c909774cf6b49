using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.Devices.Rdma;

internal static class RdmaRegionExtensions
{
    public static Span<byte> DeviceSpanForRdmaTests(this DmaRegion r) => r.DeviceSpan;
}
