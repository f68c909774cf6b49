using System.Collections.Immutable;
using NicScript.Driver.Memory;

namespace NicScript.Driver.Tests.NetDevice;

internal static class DmaRegionTestExtensions
{
    public static Span<byte> DeviceSpanForTests(this DmaRegion r) => r.DeviceSpan;
}
