namespace NicScript.Host.Cli;

/// <summary>The <c>--color</c> choice: <c>auto</c> (colour on a terminal unless <c>NO_COLOR</c> is set), <c>always</c>, <c>never</c>.</summary>
public enum ColorMode
{
    Auto,
    Always,
    Never,
}

/// <summary>How results and log lines look where they go: tables with borders fitted to a terminal, or plain columns
/// for a pipe; colour or none.</summary>
/// <remarks>
/// Design: decided once per process from <c>--color</c>, <c>NO_COLOR</c> (https://no-color.org: set and not empty) and
/// whether stdout and stderr are terminals, then obeyed by <see cref="CliContext"/>'s table and log writers, so no command
/// decides it again. A pipe has no width: tables become one whole line per row there, never wrapped. Without colour a
/// terminal still gets a fitted table, drawn in ASCII (no box-drawing characters).
/// </remarks>
/// <param name="Terminal">stdout is a terminal: tables fit its width and have borders.</param>
/// <param name="Color">stdout gets colour and text styles.</param>
/// <param name="LogColor">log lines on stderr get colour.</param>
public sealed record OutputStyle(bool Terminal, bool Color, bool LogColor)
{
    /// <summary>What a test's recording console or a pipe gets: plain columns, no colour.</summary>
    public static OutputStyle Plain { get; } = new(false, false, false);

    /// <summary>The option's name; also read before parsing (<see cref="ModeFrom"/>), since the console exists before the command runs.</summary>
    public const string OptionName = "--color";

    /// <summary>The style for this process: <paramref name="mode"/>, the environment, and whether stdout/stderr are terminals.</summary>
    public static OutputStyle Detect(ColorMode mode, string? noColor, bool stdoutTerminal, bool stderrTerminal)
    {
        bool colorWanted = mode == ColorMode.Always || (mode == ColorMode.Auto && string.IsNullOrEmpty(noColor));
        return new OutputStyle(
            Terminal: stdoutTerminal,
            Color: mode == ColorMode.Always || (colorWanted && stdoutTerminal),
            LogColor: mode == ColorMode.Always || (colorWanted && stderrTerminal));
    }

    /// <summary>The <c>--color</c> value in <paramref name="args"/> (the last one wins, as the parser does; nothing after
    /// <c>--</c>); <see cref="ColorMode.Auto"/> when absent or not a valid value (the parser then reports it).</summary>
    public static ColorMode ModeFrom(IReadOnlyList<string> args)
    {
        ColorMode mode = ColorMode.Auto;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a == "--") break;
            string? value = a == OptionName && i + 1 < args.Count ? args[++i]
                : a.StartsWith(OptionName + "=", StringComparison.Ordinal) || a.StartsWith(OptionName + ":", StringComparison.Ordinal) ? a[(OptionName.Length + 1)..]
                : null;
            if (value is not null && TryParse(value, out ColorMode m)) mode = m;
        }
        return mode;
    }

    /// <summary>auto, always or never (as the parser accepts them: lower case).</summary>
    public static bool TryParse(string text, out ColorMode mode)
    {
        switch (text)
        {
            case "auto": mode = ColorMode.Auto; return true;
            case "always": mode = ColorMode.Always; return true;
            case "never": mode = ColorMode.Never; return true;
            default: mode = ColorMode.Auto; return false;
        }
    }
}
