using NicScript.Host.Cli;
using Spectre.Console;

namespace NicScript.Host.Tests.Repl;

/// <summary>The REPL's evaluators run on a V-Node loop with its synchronization context: an <c>async void</c> (refused) or a
/// budget overrun is an error line, and the session goes on.</summary>
public sealed class ReplContainmentTests
{
    private static (int Exit, string Out) Repl(string lang, string input)
    {
        var output = new StringWriter();
        var cli = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), output, new StringWriter());
        int exit = new ReplCommand(cli).Execute(lang, null, null, null, true, new StringReader(input), scripted: true);
        return (exit, output.ToString());
    }

    [Theory]
    [InlineData("async void B()\n{\n    await System.Threading.Tasks.Task.CompletedTask;\n    throw new InvalidOperationException(\"from async void\");\n}\nB();\n40 + 2\n")]
    [InlineData("VNode.After(1, async () => { await System.Threading.Tasks.Task.CompletedTask; throw new InvalidOperationException(\"from async void\"); });\nvar t0 = VNode.NowNs;\nwhile (VNode.NowNs - t0 < 50e6) { }\n40 + 2\n")]
    public void AsyncVoid_InTheCSharpRepl_IsAnErrorLine_AndTheSessionGoesOn(string input)
    {
        (_, string output) = Repl("cs", input);
        Assert.Contains("async void methods and lambdas are not allowed", output); // refused by the verifier: its exception would reach no owner
        Assert.Contains("42", output);
    }

    [Theory]
    [InlineData("cs", "var x = 0L;\nwhile (true) { x++; }\n40 + 2\n")]
    [InlineData("js", "let x = 0;\nwhile (true) { x = 1 - x; }\n40 + 2\n")]
    public void ARunawayInput_IsStopped_AndTheSessionGoesOn(string lang, string input)
    {
        (_, string output) = Repl(lang, input);
        Assert.Contains("CPU budget exceeded", output);
        Assert.Contains("42", output);
    }
}
