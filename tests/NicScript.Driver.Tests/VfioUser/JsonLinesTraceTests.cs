using System.Text.Json;
using NicScript.Driver.VfioUser;

namespace NicScript.Driver.Tests.VfioUser;

public sealed class JsonLinesTraceTests
{
    [Fact]
    public void Record_WritesOneJsonObjectPerLineWithSnakeCaseEventNames()
    {
        var bytes = new MemoryStream();
        using (var trace = new JsonLinesTrace(bytes))
        {
            trace.Record(new VfioUserTraceEvent("0000:00:1f.0", VfioUserTraceKind.BarWrite, 4, 0x3000, 2, 0));
            trace.Record(new VfioUserTraceEvent("0000:00:1f.0", VfioUserTraceKind.DmaMap, 3, 0x100000, 0x1000, 0, "no fd: unreachable"));
            string[] lines = System.Text.Encoding.UTF8.GetString(bytes.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            JsonElement first = JsonDocument.Parse(lines[0]).RootElement, second = JsonDocument.Parse(lines[1]).RootElement;
            Assert.Equal(("bar_write", 4, 0x3000, 2), (first.GetProperty("ev").GetString(), first.GetProperty("index").GetInt32(), first.GetProperty("offset").GetInt32(), first.GetProperty("size").GetInt32()));
            Assert.False(first.TryGetProperty("detail", out _));
            Assert.Equal(("dma_map", "no fd: unreachable"), (second.GetProperty("ev").GetString(), second.GetProperty("detail").GetString()));
            Assert.Equal("0000:00:1f.0", second.GetProperty("fn").GetString());
        }
    }
}
