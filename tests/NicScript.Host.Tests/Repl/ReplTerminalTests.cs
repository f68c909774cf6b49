using System.Diagnostics;

namespace NicScript.Host.Tests.Repl;

/// <summary>The REPL in a real terminal (tmux): type, press Tab, read the screen.</summary>
[Collection(NonParallel.Name)]
public sealed class ReplTerminalTests
{
    /// <summary>Runs <c>tmux ARGS</c> and returns what it printed (shared by the terminal tests of the REPL and the CLI).</summary>
    internal static string Tmux(params string[] args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    private static string WaitForScreen(string session, Func<string, bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        string screen = "";
        while (clock.Elapsed < timeout)
        {
            screen = Tmux("capture-pane", "-t", session, "-p");
            if (done(screen)) break;
            Thread.Sleep(200);
        }
        return screen;
    }

    [SkippableFact]
    public void Tab_CompletesAMember_AndEnterPrintsTheResult()
    {
        Skip.If(NicScript.Host.Tests.EndToEnd.NetNamespace.Which("tmux") is null, "needs tmux (.ci/run installs it)");
        using var dir = new TempDir();
        string session = "nsrepl" + Guid.NewGuid().ToString("n")[..6];
        string nicscript = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        Tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40",
            $"XDG_DATA_HOME={dir.Path} dotnet {nicscript} repl 2>{dir.File("err")}; sleep 60");
        try
        {
            WaitForScreen(session, s => s.Contains("js>"), TimeSpan.FromSeconds(30));
            Tmux("send-keys", "-t", session, "const b = dma.al");
            WaitForScreen(session, s => s.Contains("dma.al"), TimeSpan.FromSeconds(5));
            Tmux("send-keys", "-t", session, "Tab");
            string completed = WaitForScreen(session, s => s.Contains("dma.alloc"), TimeSpan.FromSeconds(10));
            Assert.Contains("const b = dma.alloc", completed);
            Tmux("send-keys", "-t", session, "(64); b.length * 2");
            WaitForScreen(session, s => s.Contains("b.length * 2"), TimeSpan.FromSeconds(5));
            Tmux("send-keys", "-t", session, "Enter");
            string result = WaitForScreen(session, s => s.Split('\n').Any(l => l.Trim() == "128"), TimeSpan.FromSeconds(15));
            Assert.Contains("const b = dma.alloc(64); b.length * 2", result);
            Assert.Contains(result.Split('\n'), l => l.Trim() == "128");

            // Ctrl+R: "length *" finds the line above in the history; Enter runs it again.
            Tmux("send-keys", "-t", session, "b = null; 21 * 2");
            WaitForScreen(session, s => s.Contains("21 * 2"), TimeSpan.FromSeconds(5));
            Tmux("send-keys", "-t", session, "Enter");
            WaitForScreen(session, s => s.Split('\n').Any(l => l.Trim() == "42"), TimeSpan.FromSeconds(10));
            Tmux("send-keys", "-t", session, "21 *");
            WaitForScreen(session, s => s.TrimEnd().EndsWith("21 *"), TimeSpan.FromSeconds(5));
            Tmux("send-keys", "-t", session, "C-r");
            string found = WaitForScreen(session, s => s.Split('\n').Count(l => l.Contains("b = null; 21 * 2")) == 2, TimeSpan.FromSeconds(5));
            Assert.Equal(2, found.Split('\n').Count(l => l.Contains("b = null; 21 * 2")));
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }

    [SkippableFact]
    public void Paste_TwoLines_RunsBoth_AndATabInsideIsText()
    {
        Skip.If(NicScript.Host.Tests.EndToEnd.NetNamespace.Which("tmux") is null, "needs tmux (.ci/run installs it)");
        using var dir = new TempDir();
        string session = "nsrepl" + Guid.NewGuid().ToString("n")[..6];
        string nicscript = Path.Combine(AppContext.BaseDirectory, "nicscript.dll");
        Tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40",
            $"XDG_DATA_HOME={dir.Path} dotnet {nicscript} repl 2>{dir.File("err")}; sleep 60");
        try
        {
            WaitForScreen(session, s => s.Contains("js>"), TimeSpan.FromSeconds(30));
            // paste-buffer -p wraps the text in ESC[200~ … ESC[201~ because the REPL asked for bracketed paste; the
            // newlines arrive as Enter (CR) in the same burst as the text.
            Tmux("set-buffer", "-b", session, "10+1\n20+2\n'a\tb' + '!'\n");
            Tmux("paste-buffer", "-p", "-d", "-b", session, "-t", session);
            string screen = WaitForScreen(session, s => s.Contains("a    b!"), TimeSpan.FromSeconds(20));
            string[] lines = screen.Split('\n').Select(l => l.Trim()).ToArray();
            Assert.Contains("11", lines);
            Assert.Contains("22", lines);
            Assert.Contains("a    b!", lines); // a tab typed would have been Tab (completion), pasted it is text
            Assert.DoesNotContain("10+120+2", screen);
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }
}
