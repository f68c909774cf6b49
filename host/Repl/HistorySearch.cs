namespace NicScript.Host.Repl;

/// <summary>Ctrl+R: reverse incremental search of the history by substring, as bash and readline do — type to narrow,
/// Ctrl+R again for the next older match, Backspace to widen, Enter runs the match, Esc or Ctrl+G puts the line back.</summary>
/// <remarks>
/// Design: the search moves as keys are read (<see cref="ReplKeys"/>); the line editor applies it as it runs the
/// keys' commands, later and in order. So each move is recorded as a <see cref="Step"/>, and the editor's command for
/// <see cref="Marker"/> takes the next one. The search opens on what is already typed (<c>21 *</c> then Ctrl+R finds
/// the latest input containing <c>21 *</c>), a convenience readline does not have.
/// </remarks>
public sealed class HistorySearch
{
    /// <summary>The key that stands for one step of the search.</summary>
    public static readonly ConsoleKeyInfo Marker = new('\0', ConsoleKey.F23, false, false, false);

    private readonly IReadOnlyList<string> _history; // oldest first
    private readonly Queue<Step> _steps = new();
    private string _query = "";
    private int _at = -1; // index of the current match in the history, -1 for none

    public HistorySearch(IReadOnlyList<string> history) => _history = history;

    /// <summary>What the line shows after a key of the search.</summary>
    /// <param name="Query">The text searched for.</param>
    /// <param name="Match">The history entry found (null: none).</param>
    /// <param name="Failing">The last key found nothing more; the line keeps the previous match.</param>
    /// <param name="Closed">The search ended: <see cref="Restore"/> puts back the line as it was, else the match stays.</param>
    public readonly record struct Step(string Query, string? Match, bool Failing, bool Closed, bool Restore);

    /// <summary>True from Ctrl+R until the key that ends the search is read.</summary>
    public bool IsOpen { get; private set; }

    /// <summary>The line as it was when the search opened (the editor sets it).</summary>
    public string Original { get; private set; } = "";

    /// <summary>The prompt while the search is shown, or null (the editor sets it as it applies steps).</summary>
    public string? Prompt { get; set; }

    /// <summary>Opens the search on <paramref name="line"/> and finds its latest match.</summary>
    public Step Open(string line)
    {
        IsOpen = true;
        Original = line;
        _query = line;
        _at = -1;
        bool found = Find(_history.Count - 1);
        return new Step(_query, Current, Failing: !found, Closed: false, Restore: false);
    }

    /// <summary>Ctrl+R again: the next older entry that contains the query.</summary>
    public void Older() => Record(!Find(_at < 0 ? _history.Count - 1 : _at - 1));

    /// <summary>A typed character narrows the query; the match stays while it still contains it.</summary>
    public void Type(char c)
    {
        _query += c;
        Record(!Find(_at < 0 ? _history.Count - 1 : _at));
    }

    /// <summary>Backspace widens the query and searches again from the newest entry.</summary>
    public void Erase()
    {
        if (_query.Length > 0) _query = _query[..^1];
        _at = -1;
        Record(!Find(_history.Count - 1));
    }

    public void Accept() => Close(restore: false);

    public void Cancel() => Close(restore: true);

    /// <summary>The next step to apply, in the order the keys were read.</summary>
    public bool TryNext(out Step step) => _steps.TryDequeue(out step);

    private string? Current => _at >= 0 ? _history[_at] : null;

    private void Close(bool restore)
    {
        IsOpen = false;
        _steps.Enqueue(new Step(_query, Current, Failing: false, Closed: true, Restore: restore));
    }

    private void Record(bool failing) => _steps.Enqueue(new Step(_query, Current, failing, Closed: false, Restore: false));

    // From index `from` back to the oldest; on no match the current one stays (readline's "failing" search).
    private bool Find(int from)
    {
        for (int i = Math.Min(from, _history.Count - 1); i >= 0; i--)
        {
            if (!_history[i].Contains(_query, StringComparison.Ordinal)) continue;
            _at = i;
            return true;
        }
        return false;
    }
}
