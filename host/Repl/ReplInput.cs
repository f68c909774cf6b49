using System.Text;

namespace NicScript.Host.Repl;

/// <summary>The REPL's inputs from a pipe or file, line by line, each input bounded in size and lines.</summary>
/// <remarks>
/// Design: <see cref="TextReader.ReadLine"/> keeps reading until a newline, so <c>nicscript repl &lt; /dev/zero</c> would
/// grow without end; and an unfinished input is parsed again at each new line, so one that never finishes would cost
/// its length squared. Here reading stops once an input passes <see cref="MaxChars"/> and the caller is told at once (a
/// scripted session without <c>--keep-going</c> ends there, even on an endless line); the rest of that line is skipped,
/// never kept, before the next input. An input of more than <see cref="MaxLines"/> lines is dropped the same way.
/// Larger code goes through <c>.load</c>, which reads a file within the script limit.
/// </remarks>
public sealed class ReplInput
{
    /// <summary>Characters one input may have.</summary>
    public const int MaxChars = 1024 * 1024;

    /// <summary>Lines one input may span before it is finished.</summary>
    public const int MaxLines = 2000;

    private readonly TextReader _reader;
    private readonly StringBuilder _pending = new();
    private int _lines;
    private bool _skipRest;

    public ReplInput(TextReader reader) => _reader = reader;

    /// <summary>Reads the next line into the pending input; false at the end of the input.</summary>
    /// <param name="tooLong">Set when the input passed <see cref="MaxChars"/> or <see cref="MaxLines"/>: it is dropped.</param>
    public bool ReadLine(out bool tooLong)
    {
        tooLong = false;
        int c;
        if (_skipRest) // the rest of a line that passed the bound belongs to the input that was dropped
        {
            do c = _reader.Read(); while (c >= 0 && c != '\n');
            _skipRest = false;
            if (c < 0) return false;
        }
        c = _reader.Read();
        if (c < 0) return false;
        while (c >= 0 && c != '\n')
        {
            _pending.Append((char)c);
            if (_pending.Length > MaxChars) // stop here: the caller reports it (and may stop) before the rest is skipped
            {
                (tooLong, _skipRest) = (true, true);
                break;
            }
            c = _reader.Read();
        }
        if (_pending.Length > 0 && _pending[^1] == '\r') _pending.Length--;
        _pending.Append('\n');
        _lines++;
        if (tooLong || _pending.Length > MaxChars || _lines > MaxLines)
        {
            tooLong = true;
            Clear();
        }
        return true;
    }

    /// <summary>The input read so far.</summary>
    public string Pending => _pending.ToString();

    public bool IsEmpty => _pending.Length == 0;

    /// <summary>Starts a new input.</summary>
    public void Clear()
    {
        _pending.Clear();
        _lines = 0;
    }

    public static string TooLongMessage => $"error: an input longer than {MaxChars / (1024 * 1024)} MiB or {MaxLines} lines (use .load FILE for more)";
}
