using NicScript.Host.Cli;
using NicScript.Host.Repl;
using Spectre.Console;

namespace NicScript.Host.Tests.Repl;

/// <summary>The C# REPL checks each submission's compiled IL before Roslyn loads it, like <c>run</c>.</summary>
public sealed class CSharpReplVerifierTests
{
    private static (int Exit, string Out) Repl(string input)
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        int exit = new ReplCommand(cli).Execute("cs", null, null, null, false, new StringReader(input), scripted: true);
        return (exit, output.ToString());
    }

    [Fact]
    public void LaterSubmission_UsesEarlierTypesAndState() =>
        Assert.EndsWith("43", Repl("class C { public static int N = 1; public int M => 2; }\nvar c = new C();\nvar n = 40;\nn + C.N + c.M\n").Out.Trim());

    [Theory]
    [InlineData("var p = System.Buffers.ArrayPool<byte>.Shared;\n", "System.Buffers.ArrayPool")]
    [InlineData("System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;\n", "DefaultThreadCurrentCulture")]
    [InlineData("async void Boom() { await System.Threading.Tasks.Task.CompletedTask; throw new Exception(\"x\"); }\n", "async void")]
    [InlineData("class D { ~D() { } }\n", "finalizers")]
    [InlineData("var x = 1;\nvar t = System.Threading.Tasks.Task.CompletedTask.ContinueWith(_ => x++);\n", "ContinueWith")]
    public void RefusedSubmission_IsOneLineErrorAndExitOne(string input, string api)
    {
        var (exit, output) = Repl(input);
        Assert.Equal(1, exit);
        Assert.Contains("error: repl", output);
        Assert.Contains(api, output);
    }
}
