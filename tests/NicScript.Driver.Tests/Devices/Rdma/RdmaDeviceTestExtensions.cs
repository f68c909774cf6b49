using NicScript.Driver.Devices.Rdma;
using static NicScript.Driver.Devices.Rdma.RdmaAccess;

namespace NicScript.Driver.Tests.Devices.Rdma;

internal static class RdmaDeviceTestExtensions
{
    public static uint HighestMrIndexForTests(this RdmaDevice d) => d.HighestMrIndex;
}
