using NicScript.Driver.Devices.Virtio;
using System.Buffers.Binary;
using System.Net;
using NicScript.Driver.Devices.Rdma;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Memory;
using NicScript.Driver.Pci;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Rdma;

internal static class RdmaRegionExtensions
{
    public static Span<byte> DeviceSpanForRdmaTests(this DmaRegion r) => r.DeviceSpan;
}
