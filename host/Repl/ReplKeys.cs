using System.Collections.Concurrent;
using RadLine;
using Spectre.Console;

namespace NicScript.Host.Repl;

/// <summary>The keys the REPL's line editor reads: the terminal's, with bracketed paste decoded, the keys of a history
/// search turned into search steps, and keys the REPL injects (a redraw after printing above the prompt).</summary>
/// <remarks>
/// Design: RadLine reads every key that is already available in one go, and by default turns an Enter inside a burst
/// of five or more keys into Shift+Enter ("new line") — which the REPL has no binding for, so a pasted
/// <c>10+1⏎20+2</c> became <c>10+120+2</c>. This source asks RadLine not to (<see cref="ByPassProcessing"/>): an Enter
/// is an Enter however fast it comes, and the editor (kept for the whole session) keeps the keys after it for the next
/// input. Pasted text between <c>ESC[200~</c> and <c>ESC[201~</c> (the terminal sends them once the REPL wrote
/// <c>ESC[?2004h</c>) is inserted as it is: each newline is an Enter — a finished input runs as its line completes, as
/// in node, an unfinished one continues — a tab is spaces (not completion), and other control keys are dropped.
/// While a Ctrl+R search is open, keys go to the search: each becomes a step (<see cref="HistorySearch.Step"/>) that
/// the <see cref="HistorySearch.Marker"/> key's command applies to the line in order. Ctrl+R itself is followed by a
/// pause in what is reported available, so the editor runs the command that opens the search (and sees the line as
/// typed so far) before it reads the keys that follow.
/// </remarks>
internal sealed class ReplKeys : IInputSource
{
    /// <summary>A key bound to nothing but a redraw.</summary>
    public static readonly ConsoleKeyInfo Redraw = new('\0', ConsoleKey.F24, false, false, false);

    private const string PasteStart = "[200~";
    private const string PasteEnd = "[201~";
    private const string TabAsSpaces = "    ";

    private readonly IAnsiConsoleInput _terminal;
    private readonly ConcurrentQueue<ConsoleKeyInfo> _injected = new();
    private readonly List<ConsoleKeyInfo> _lookahead = new(); // read to recognise a paste marker that was not one
    private readonly Queue<ConsoleKeyInfo> _produced = new();  // keys one terminal key became (a tab's spaces, Enter after a search)
    private bool _pasting;
    private bool _previousWasCr;
    private bool _hold;

    public ReplKeys(IAnsiConsoleInput terminal, HistorySearch search)
    {
        _terminal = terminal;
        Search = search;
    }

    public HistorySearch Search { get; }

    public bool ByPassProcessing => true;

    /// <summary>Queues a key from outside the terminal (any thread).</summary>
    public void Inject(ConsoleKeyInfo key) => _injected.Enqueue(key);

    public bool IsKeyAvailable()
    {
        if (!_injected.IsEmpty) return true;
        if (_hold)
        {
            _hold = false;
            return false;
        }
        return _produced.Count > 0 || _lookahead.Count > 0 || _terminal.IsKeyAvailable();
    }

    public ConsoleKeyInfo ReadKey()
    {
        if (_injected.TryDequeue(out ConsoleKeyInfo injected)) return injected;
        if (_produced.TryDequeue(out ConsoleKeyInfo produced)) return produced;
        ConsoleKeyInfo key = Next();
        if (key.Key == ConsoleKey.Escape && Follows(_pasting ? PasteEnd : PasteStart))
        {
            _pasting = !_pasting;
            _previousWasCr = false;
            return Redraw;
        }
        if (_pasting) return Pasted(key);
        if (Search.IsOpen) return Searching(key);
        if (IsCtrl(key, ConsoleKey.R)) _hold = true; // the search opens on the line as typed so far
        return key;
    }

    private ConsoleKeyInfo Next()
    {
        if (_lookahead.Count > 0)
        {
            ConsoleKeyInfo key = _lookahead[0];
            _lookahead.RemoveAt(0);
            return key;
        }
        return _terminal.ReadKey(intercept: true) ?? Redraw;
    }

    /// <summary>True (and the keys consumed) when the keys already available spell <paramref name="tail"/>; otherwise
    /// they stay, in order, to be read as keys.</summary>
    private bool Follows(string tail)
    {
        var read = new List<ConsoleKeyInfo>(tail.Length);
        bool match = true;
        foreach (char expected in tail)
        {
            if (_lookahead.Count == 0 && !_terminal.IsKeyAvailable())
            {
                match = false;
                break;
            }
            ConsoleKeyInfo key = Next();
            read.Add(key);
            if (key.KeyChar != expected)
            {
                match = false;
                break;
            }
        }
        if (!match) _lookahead.InsertRange(0, read);
        return match;
    }

    private ConsoleKeyInfo Pasted(ConsoleKeyInfo key)
    {
        bool wasCr = _previousWasCr;
        _previousWasCr = key.KeyChar == '\r';
        switch (key.KeyChar)
        {
            case '\n' when wasCr: // CR LF is one line end
                return Redraw;
            case '\r' or '\n':
                return new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false);
            case '\t':
                foreach (char c in TabAsSpaces[1..]) _produced.Enqueue(new ConsoleKeyInfo(c, ConsoleKey.Spacebar, false, false, false));
                return new ConsoleKeyInfo(' ', ConsoleKey.Spacebar, false, false, false);
            case var c when c == '\0' || char.IsControl(c):
                return Redraw;
            default:
                return key;
        }
    }

    private ConsoleKeyInfo Searching(ConsoleKeyInfo key)
    {
        if (IsCtrl(key, ConsoleKey.R)) Search.Older();
        else if (key.Key == ConsoleKey.Escape || IsCtrl(key, ConsoleKey.G)) Search.Cancel();
        else if (key.Key == ConsoleKey.Backspace) Search.Erase();
        else if (key.KeyChar != '\0' && !char.IsControl(key.KeyChar) && (key.Modifiers & ConsoleModifiers.Control) == 0) Search.Type(key.KeyChar);
        else
        {
            Search.Accept(); // Enter runs the line found; an arrow or Tab edits it
            _produced.Enqueue(key);
        }
        return HistorySearch.Marker;
    }

    private static bool IsCtrl(ConsoleKeyInfo key, ConsoleKey letter) =>
        (key.Key == letter && (key.Modifiers & ConsoleModifiers.Control) != 0) || key.KeyChar == letter - ConsoleKey.A + 1;
}
