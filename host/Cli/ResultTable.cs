using Spectre.Console;
using Spectre.Console.Rendering;

namespace NicScript.Host.Cli;

/// <summary>A table of results (columns, rows of Spectre markup cells, an optional title) that <see cref="CliContext.Write(ResultTable)"/>
/// draws to fit where it goes.</summary>
/// <remarks>
/// Design: commands describe the table; <see cref="CliContext"/> picks one of the two shapes for the process. On a terminal it is a Spectre
/// table fitted to the terminal's width (rounded borders with colour, ASCII without). Anywhere else (a pipe, a file, a
/// test's recorder) it is plain columns: a header line, then one whole line per row, columns padded with spaces to the
/// widest cell, nothing wrapped or cut, a cell's several lines joined with ", ", so <c>grep</c>, <c>awk</c> and
/// <c>column</c> see one record per line.
/// </remarks>
public sealed class ResultTable
{
    private const string Gap = "  ";
    private readonly string[] _columns;
    private readonly List<string[]> _rows = [];

    public ResultTable(params string[] columns) => _columns = columns;

    /// <summary>A line above the table (markup), e.g. what ran and for how long.</summary>
    public string? Title { get; init; }

    /// <summary>Adds a row of markup cells (escape user text with <see cref="Markup.Escape"/>); a cell may hold several lines.</summary>
    public void AddRow(params string[] cells)
    {
        if (cells.Length != _columns.Length) throw new ArgumentException($"a row has {_columns.Length} cells, not {cells.Length}", nameof(cells));
        _rows.Add(cells);
    }

    /// <summary>The terminal shape: a Spectre table (fitted to the console's width), rounded with colour, ASCII and unstyled without.</summary>
    public IRenderable Boxed(bool color)
    {
        var table = new Table().Border(color ? TableBorder.Rounded : TableBorder.Ascii);
        if (Title is not null) table.Title(color ? Title : Markup.Escape(Markup.Remove(Title)));
        table.AddColumns(_columns.Select(Markup.Escape).ToArray());
        foreach (string[] row in _rows) table.AddRow(row.Select(c => color ? c : Markup.Escape(Markup.Remove(c))).ToArray());
        return table;
    }

    /// <summary>The plain shape, one string a line: markup (styles kept, to be written as <see cref="Markup"/>) with
    /// <paramref name="color"/>, plain text without.</summary>
    public IEnumerable<string> Lines(bool color)
    {
        string[][] visible = [[.. _columns], .. _rows.Select(r => r.Select(c => OneLine(Markup.Remove(c))).ToArray())];
        string[][] shown = color ? [[.. _columns.Select(Markup.Escape)], .. _rows.Select(r => r.Select(OneLine).ToArray())] : visible;
        int[] widths = Widths(visible);
        if (Title is not null) yield return color ? Title : Markup.Remove(Title);
        for (int i = 0; i < visible.Length; i++) yield return Join(shown[i], visible[i], widths);
    }

    private static string OneLine(string cell) => string.Join(", ", cell.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static int[] Widths(string[][] rows)
    {
        var widths = new int[rows[0].Length];
        foreach (string[] row in rows)
            for (int c = 0; c < row.Length; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        return widths;
    }

    /// <summary>One line: each cell padded to its column's width by its visible length (the last one not padded).</summary>
    private static string Join(string[] shown, string[] visible, int[] widths)
    {
        var line = new System.Text.StringBuilder();
        for (int c = 0; c < shown.Length; c++)
        {
            line.Append(shown[c]);
            if (c < shown.Length - 1) line.Append(' ', widths[c] - visible[c].Length).Append(Gap);
        }
        return line.ToString().TrimEnd();
    }
}
