using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Repl;

public sealed class ReplFormatterTests
{
    [Fact]
    public void Results_HandlesAsTables_FramesDecoded_BytesDumped()
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        string input = """
            const q = net.queue(8)
            const buf = dma.alloc(2048)
            q.add(buf, 0, 1500, true)
            q.desc(0)
            buf.writeText(0, "0123456789abcdefXYZ")
            buf.read(0, 19)
            """ + "\n";
        int exit = new ReplCommand(cli).Execute("js", null, null, null, false, new StringReader(input), scripted: true);
        string text = output.ToString();
        Assert.Equal(0, exit);
        Assert.Contains("VirtqDescriptor", text);
        Assert.Matches(@"│ flags\s+│ ""WRITE""", text);
        Assert.Contains("0000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef", text);
    }
}
