using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NicScript.Host.Manifests;

/// <summary>Reads one YAML document into <see cref="YamlNode"/>s, reporting syntax errors and duplicate keys with their places.</summary>
/// <remarks>
/// Design: YamlDotNet's parser is an iterative state machine, but building a tree recurses once per level, and a stack
/// overflow kills the process. So the depth is counted on the event stream as each collection opens, and the first one
/// past <see cref="MaxDepth"/> ends the read with its place — before the next level's frame exists. At 64 levels the
/// recursion needs a few kilobytes, so no special stack is needed. Anchors and aliases are refused (never expanded), so
/// an alias bomb costs no more than its text, which <see cref="InputFile.MaxYamlBytes"/> bounds.
/// An error that leaves the tree sound (a duplicate key keeps its first value, an anchor is ignored) does not end the
/// read: the tree is returned so the file's other errors are found in the same pass. A syntax error does end it —
/// YamlDotNet's parser cannot go on past one.
/// </remarks>
internal sealed class YamlTreeReader
{
    /// <summary>Collections (lists, mappings) a file may nest. Manifests, machine, system and DPU state files need a handful.</summary>
    public const int MaxDepth = 64;

    /// <summary>Thrown at the first collection past <see cref="MaxDepth"/>; ends the read.</summary>
    private sealed class TooDeepException(Mark at) : Exception
    {
        public Mark At { get; } = at;
    }

    private readonly string _file;
    private readonly List<ManifestProblem> _problems;
    private int _lastLine = 1, _lastColumn = 1;
    private bool _unusable; // an alias was read as an empty scalar: checking the tree further would report errors that are not there

    private YamlTreeReader(string file, List<ManifestProblem> problems)
    {
        _file = file;
        _problems = problems;
    }

    /// <summary>The document's root, or null when the text cannot be read as a tree (each error added to <paramref name="problems"/>).
    /// A duplicate key, an anchor or a complex key is an error but not the end: the first value stays and the tree is
    /// returned, so the caller checks the rest of the file in the same pass.</summary>
    public static YamlNode? Read(string text, string file, List<ManifestProblem> problems) => new YamlTreeReader(file, problems).Read(text);

    private YamlNode? Read(string text)
    {
        string file = _file;
        List<ManifestProblem> problems = _problems;
        Scanner? scanner = null;
        try
        {
            scanner = new Scanner(new StringReader(text), skipComments: true);
            var parser = new Parser(scanner);
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                problems.Add(new(new SourceSpan(file, 1, 1), "the file is empty", ProblemSeverity.Error));
                return null;
            }
            parser.Consume<DocumentStart>();
            YamlNode root = ReadNode(parser, 0);
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
            {
                var at = parser.Current!.Start;
                problems.Add(new(new SourceSpan(file, (int)at.Line, (int)at.Column), "more than one YAML document; a manifest is one", ProblemSeverity.Error));
            }
            return _unusable ? null : root;
        }
        catch (YamlException e)
        {
            YamlException cause = e.InnerException as YamlException ?? e;
            string reason = cause.Message;
            int paren = reason.IndexOf("): ", StringComparison.Ordinal); // YamlDotNet prefixes "(Line: .., Col: ..) - (..): "
            if (reason.StartsWith('(') && paren > 0) reason = reason[(paren + 3)..];
            // A tab in the indentation is the error people meet most, and YamlDotNet reports it with no mark (Start = End =
            // Mark.Empty, shown as 1:1) or at the scalar before it: the scanner stopped on the tab, so its position is the place.
            bool tab = reason.Contains("tab", StringComparison.OrdinalIgnoreCase);
            bool unmarked = cause.Start.Equals(Mark.Empty) && cause.End.Equals(Mark.Empty);
            Mark at = (tab || unmarked) && scanner is not null ? scanner.CurrentPosition : cause.Start;
            problems.Add(tab
                ? new(Span(file, at), "a tab character in the indentation: YAML indents with spaces only (replace the tab with spaces)", ProblemSeverity.Error)
                : new(Span(file, at), "YAML syntax error: " + reason, ProblemSeverity.Error));
            return null;
        }
        catch (TooDeepException e)
        {
            problems.Add(new(Span(file, e.At), $"nesting too deep: more than {MaxDepth} lists or mappings inside each other", ProblemSeverity.Error));
            return null;
        }
        catch (InvalidOperationException) // YamlDotNet's scanner throws this on some malformed flow collections
        {
            problems.Add(new(new SourceSpan(file, _lastLine, _lastColumn), "YAML syntax error: malformed flow collection or scalar after this point", ProblemSeverity.Error));
            return null;
        }
    }

    private YamlNode ReadNode(IParser parser, int depth)
    {
        string file = _file;
        List<ManifestProblem> problems = _problems;
        if (parser.Current is { } current) (_lastLine, _lastColumn) = ((int)current.Start.Line, (int)current.Start.Column);
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            problems.Add(new(Span(file, alias.Start), $"aliases (*{alias.Value}) are not allowed in a manifest", ProblemSeverity.Error));
            _unusable = true;
            return new YamlScalar("", true, (int)alias.Start.Line, (int)alias.Start.Column);
        }
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            RefuseAnchor(scalar, file, problems);
            return new YamlScalar(scalar.Value, scalar.Style == ScalarStyle.Plain, (int)scalar.Start.Line, (int)scalar.Start.Column);
        }
        if (parser.Current is SequenceStart or MappingStart && depth >= MaxDepth) throw new TooDeepException(parser.Current.Start);
        if (parser.TryConsume<SequenceStart>(out var seq))
        {
            RefuseAnchor(seq, file, problems);
            var items = new List<YamlNode>();
            while (!parser.TryConsume<SequenceEnd>(out _)) items.Add(ReadNode(parser, depth + 1));
            return new YamlSequence(items, (int)seq.Start.Line, (int)seq.Start.Column);
        }
        var map = parser.Consume<MappingStart>();
        RefuseAnchor(map, file, problems);
        var entries = new List<KeyValuePair<YamlScalar, YamlNode>>();
        var firstOf = new Dictionary<string, YamlScalar>(StringComparer.Ordinal); // a mapping with many keys stays linear
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            YamlNode key = ReadNode(parser, depth + 1);
            YamlNode value = ReadNode(parser, depth + 1);
            if (key is not YamlScalar k)
            {
                problems.Add(new(Span(file, key), $"expected a plain key, got {key.Describe}", ProblemSeverity.Error));
                continue;
            }
            if (!firstOf.TryAdd(k.Value, k))
            {
                YamlScalar first = firstOf[k.Value];
                problems.Add(new(Span(file, k), $"duplicate key '{k.Value}' (first at {first.Line}:{first.Column})", ProblemSeverity.Error));
                continue;
            }
            entries.Add(new(k, value));
        }
        return new YamlMapping(entries, (int)map.Start.Line, (int)map.Start.Column);
    }

    private static void RefuseAnchor(NodeEvent node, string file, List<ManifestProblem> problems)
    {
        if (!node.Anchor.IsEmpty)
            problems.Add(new(Span(file, node.Start), $"anchors (&{node.Anchor.Value}) are not allowed in a manifest", ProblemSeverity.Error));
    }

    internal static SourceSpan Span(string file, Mark m) => new(file, (int)m.Line, (int)m.Column);

    internal static SourceSpan Span(string file, YamlNode n) => new(file, n.Line, n.Column);
}
