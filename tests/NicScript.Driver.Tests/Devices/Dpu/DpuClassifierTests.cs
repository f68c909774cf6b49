using NicScript.Driver.Devices.Dpu;
using NicScript.Driver.Wire;

namespace NicScript.Driver.Tests.Devices.Dpu;

public sealed class DpuClassifierTests
{
    private static DpuKey Key(Random r)
    {
        // canonical keys of a few shapes, values drawn from small sets so frames hit them often
        int shape = r.Next(6);
        ulong dmacMask = shape == 1 ? 0xFFFFFFFFFFFFUL : shape == 2 ? 0xFFFFFF000000UL : 0UL;
        ulong dmac = (0x020000000000UL | (uint)r.Next(4)) & dmacMask;
        int ipType = shape is 0 or 3 or 4 ? 4 : shape == 5 ? 6 : 0;
        uint[] dip = [], dipMask = [];
        if (ipType == 4)
        {
            uint mask = shape == 3 ? 0xFFFFFF00 : 0xFFFFFFFF;
            dip = [(0x0A000000u | (uint)r.Next(4)) & mask];
            dipMask = [mask];
        }
        else if (ipType == 6)
        {
            dip = [0x20010DB8, 0, 0, (uint)r.Next(4)];
            dipMask = [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF];
        }
        bool ports = shape == 4;
        int vidMask = r.Next(3) == 0 ? 0x30000 : 0;
        int vid = vidMask == 0 ? 0 : r.Next(2) == 0 ? 0x20000 : 0;
        return new DpuKey(dmac, dmacMask, 0, 0, ipType, dip, dipMask, [], [], ports ? 17 : 0, ports ? 0xFF : 0, ports ? 9 + r.Next(2) : 0,
            ports ? 0xFFFF : 0, 0, 0, 0, 0, vid, vidMask);
    }

    [Fact]
    public void Tuple_space_lookup_decides_as_a_scan_in_key_order_would()
    {
        var r = new Random(42);
        int matched = 0, lookups = 0, notFirst = 0;
        for (int round = 0; round < 50; round++)
        {
            DpuRule[] rules = Enumerable.Range(0, r.Next(1, 64)).Select(i => new DpuRule(i * 3 + r.Next(3), Key(r), 0, 0, null))
                .OrderBy(x => x.KeyIndex).ToArray();
            var classifier = new DpuClassifier(rules);
            for (int n = 0; n < 200; n++)
            {
                bool v6 = r.Next(4) == 0;
                using var g = new FrameGenerator(Links.Pair());
                g.Configure(new TrafficSpec
                {
                    Size = 128, Dmac = $"02:00:00:00:00:0{r.Next(5)}", Destination = v6 ? $"2001:db8::{r.Next(5)}" : $"10.0.0.{r.Next(5)}",
                    Source = v6 ? "2001:db8::100" : "10.0.0.100", DestinationPort = 9 + r.Next(3), Protocol = r.Next(3) == 0 ? 6 : 17,
                });
                Assert.True(FrameFields.TryParse(g.Frame(0), out FrameFields f));
                int ingress = r.Next(2) == 0 ? 0x20001 : 3;
                int scan = Array.FindIndex(rules, x => x.Matches(f, ingress));
                Assert.Equal(scan, classifier.Lookup(f, ingress));
                lookups++;
                if (scan >= 0) matched++;
                if (scan > 0) notFirst++;
            }
        }
        Assert.True(matched > lookups / 3 && notFirst > lookups / 10, $"{matched} of {lookups} frames matched, {notFirst} not on the first rule");
    }

    [Fact]
    public void Identical_keys_resolve_to_the_smaller_index()
    {
        var k = new DpuKey(0, 0, 0, 0, 4, [0x0A000007], [0xFFFFFFFF], [], [], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        DpuRule[] rules = [new(5, k, 1, 0, null), new(9, k, 2, 0, null)];
        using var g = new FrameGenerator(Links.Pair());
        g.Configure(new TrafficSpec { Destination = "10.0.0.7" });
        Assert.True(FrameFields.TryParse(g.Frame(0), out FrameFields f));
        Assert.Equal(0, new DpuClassifier(rules).Lookup(f, 0));
        g.Configure(new TrafficSpec { Destination = "10.0.0.8" });
        Assert.True(FrameFields.TryParse(g.Frame(0), out f));
        Assert.Equal(-1, new DpuClassifier(rules).Lookup(f, 0));
    }
}
