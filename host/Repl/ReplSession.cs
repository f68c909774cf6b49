using System.Text;
using NicScript.Driver;
using NicScript.Driver.Devices.VirtioNet;
using NicScript.Driver.Wire;
using NicScript.Host.Capabilities;
using NicScript.Host.Families;
using NicScript.Host.Guests;
using NicScript.Host.Manifests;
using NicScript.Host.Runtime;
using NicScript.Host.Scripting;
using Serilog;

namespace NicScript.Host.Repl;

/// <summary>One REPL session: a V-Node context on a live machine, an evaluator per language, dot-commands, what was accepted.</summary>
/// <remarks>
/// Inputs and handlers run on the session's own V-Node loop, one at a time, so a handler registered at the prompt fires
/// in the background between inputs; what it prints goes to the same output. The session never ends the process: an
/// error is a line, and the next input comes.
/// </remarks>
public sealed class ReplSession : IScriptDispatcher, IDisposable
{
    private readonly Machine _machine;
    private readonly VNodeManifest _manifest;
    private readonly AuditLog _audit;
    private readonly ILogger _log;
    private readonly CapabilityBroker _broker;
    private readonly VNodeLoop _loop = new("repl");
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<string> _accepted = new();
    private readonly object _writeLock = new();
    private VNodeContext _ctx = null!;
    private VNodeGlobals _globals = null!;
    private IReplEvaluator _evaluator = null!;
    private PcapWriter? _capture;

    public ReplSession(Machine machine, VNodeManifest manifest, ScriptLanguage language, TextWriter output, ILogger log)
    {
        _machine = machine;
        _manifest = manifest;
        _log = log;
        Output = output;
        _audit = new AuditLog(log);
        _broker = new CapabilityBroker(machine, _audit, log);
        // What the session's code posts to its loop (await continuations, async void exceptions) runs under the evaluator's
        // budget; a failure is a line, like a handler's, and the session goes on.
        _loop.ContinuationRunner = (d, s) =>
        {
            if (_evaluator.Invoke(static x => x.d(x.s), (d, s)) is ScriptOutcome.Failed f) Background($"error in a continuation: {f.At}: {f.Reason}");
        };
        _loop.Faulted = e => Background($"error: {e.GetType().Name}: {e.Message}");
        Start(language);
    }

    public TextWriter Output { get; }

    public ScriptLanguage Language => _evaluator.Language;

    public VNodeGlobals Globals => _globals;

    /// <summary>The inputs that evaluated without error, in order (what <c>.save</c> writes).</summary>
    public IReadOnlyList<string> Accepted => _accepted;

    public bool ExitRequested { get; private set; }

    public string Prompt => Language == ScriptLanguage.JavaScript ? "js> " : "cs> ";

    /// <summary>A REPL context that grants every function, line and vector of <paramref name="machine"/>.</summary>
    public static VNodeManifest GrantEverything(Machine machine)
    {
        var grants = new List<CapabilityGrant>();
        var at = SourceSpan.None("repl");
        foreach (CapabilityKind k in new[] { CapabilityKind.NetworkAccess, CapabilityKind.DmaAlloc, CapabilityKind.MemShare, CapabilityKind.SyscallRaw, CapabilityKind.LogWrite })
            grants.Add(new CapabilityGrant(k, null, null, at));
        grants.AddRange(machine.Pci.Functions.Select(f => new CapabilityGrant(CapabilityKind.HardwareIoPci, f.Address, null, at)));
        grants.AddRange(machine.Interrupts.Keys.Order().Select(n => new CapabilityGrant(CapabilityKind.IrqRegister, null, n, at)));
        return new VNodeManifest(Path.Combine(Environment.CurrentDirectory, "repl.yml"), "repl", "0.1.0", null, ManifestMode.Permissive,
            new RuntimeSpec("repl", "repl", ScriptLanguage.JavaScript, 256, 1.0), [.. grants], [],
            ["packets_rx", "packets_tx", "irq_latency_ns"], []);
    }

    private void Start(ScriptLanguage language)
    {
        _ctx = _broker.Admit(_manifest);
        _ctx.Dispatcher = this;
        _globals = new VNodeGlobals(_broker.Handles(_ctx));
        MakeEvaluator(language);
    }

    private void MakeEvaluator(ScriptLanguage language)
    {
        var budget = ScriptBudget.ForManifest(_manifest.Runtime.MaxCpuShare, _manifest.Runtime.RequiredMemMb);
        _evaluator = _loop.InvokeAsync<IReplEvaluator>(() => language == ScriptLanguage.JavaScript
            ? new JavaScriptReplEvaluator(_globals, budget, _stopping.Token)
            : new CSharpReplEvaluator(_globals, budget, _stopping.Token)).GetAwaiter().GetResult();
        _accepted.Clear();
    }

    public bool IsIncomplete(string input) => !input.TrimStart().StartsWith('.') && _evaluator.IsIncomplete(input);

    /// <summary>Runs one input (code or a dot-command); returns false when it failed (the session goes on either way).</summary>
    public bool Submit(string input)
    {
        string trimmed = input.Trim();
        if (trimmed.Length == 0) return true;
        if (trimmed.StartsWith('.')) return Command(trimmed);
        ScriptOutcome outcome = _loop.InvokeAsync(() => _evaluator.Evaluate(input)).GetAwaiter().GetResult();
        switch (outcome)
        {
            case ScriptOutcome.Completed c:
                _accepted.Add(input.TrimEnd());
                string text = ReplFormatter.Format(c.Value);
                if (text.Length > 0) Write(text);
                return true;
            case ScriptOutcome.Failed f:
                Write($"error: {f.At}: {f.Reason}");
                return false;
            default:
                Write("cancelled");
                return false;
        }
    }

    public bool Dispatch<T>(Action<T> handler, T argument) => _loop.TryPost(static s =>
    {
        var (session, h, arg) = ((ReplSession, Action<T>, T))s!;
        if (session._evaluator.Invoke(h, arg) is ScriptOutcome.Failed f) session.Background($"error in a handler: {f.At}: {f.Reason}");
    }, (this, handler, argument));

    public bool Post(Action<object?> work, object? state) => _loop.TryPost(work, state);

    public bool Invoke<T>(Action<T> handler, T argument)
    {
        if (_evaluator.Invoke(handler, argument) is not ScriptOutcome.Failed f) return true;
        Background($"error in a handler: {f.At}: {f.Reason}");
        return true; // the session goes on after a handler's failure
    }

    private readonly Queue<string> _background = new();

    /// <summary>While a line is being edited, what handlers print waits here, so it does not land inside the line.</summary>
    public bool Editing { get; set; }

    /// <summary>Prints what handlers printed while the user was typing (the editor calls it before each prompt).</summary>
    public void FlushBackground()
    {
        lock (_writeLock)
            while (_background.TryDequeue(out string? text)) Output.WriteLine(text);
    }

    /// <summary>Set by the line editor: prints a line above the prompt and redraws the prompt under it.</summary>
    public Action<string>? AboveThePrompt { get; set; }

    /// <summary>Output that did not come from the input being evaluated: handlers, timers, log events.</summary>
    public void Background(string text)
    {
        lock (_writeLock)
        {
            if (!Editing) Output.WriteLine(text);
            else if (AboveThePrompt is { } above) above(text);
            else _background.Enqueue(text);
        }
    }

    private void Write(string text)
    {
        lock (_writeLock)
        {
            Output.WriteLine(text);
            Output.Flush();
        }
    }

    /// <summary>Completion candidates for the word before the cursor at the end of <paramref name="line"/>: dot-commands,
    /// globals, the driver constants' top-level names (<c>RDMA_WC_SUCCESS</c>; <c>SessionFlags</c> in C#) and variables,
    /// or the members of what the word before the last dot is — a global or a variable, from its value in JavaScript (no
    /// getter is called) and from Roslyn's completion in C# (the same <see cref="ScriptSurface"/> in both, camelCase in
    /// JavaScript, PascalCase in C#). Each candidate is the whole dotted word (<c>nic.mac</c>).</summary>
    public IReadOnlyList<string> Complete(string line)
    {
        string word = WordBefore(line);
        if (line.TrimStart().StartsWith('.') && !line.Contains(' '))
            return Commands.Where(c => c.StartsWith(line.TrimStart(), StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        int dot = word.LastIndexOf('.');
        if (dot < 0)
        {
            IEnumerable<string> globals = ScriptSurface.Globals.Select(p => ScriptSurface.GlobalName(p, Language)).Concat(ScriptSurface.TopLevelConstantNames(Language));
            IEnumerable<string> variables = _loop.InvokeAsync(() => _evaluator.Variables.ToArray()).GetAwaiter().GetResult();
            return globals.Concat(variables).Where(n => n.StartsWith(word, StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal).ToArray();
        }
        string owner = word[..dot], prefix = word[(dot + 1)..];
        if (owner.Length == 0 || owner.Split('.').Any(s => s.Length == 0)) return [];
        IReadOnlyList<string>? members;
        try
        {
            members = _loop.InvokeAsync(() => _evaluator.Members(line, owner)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.Debug(e, "completion of {Owner} failed", owner);
            return []; // Tab never ends the session
        }
        return (members ?? []).Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Select(n => owner + "." + n).Distinct().Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The dotted word that ends <paramref name="line"/> (<c>nic.ma</c> in <c>const m = nic.ma</c>).</summary>
    public static string WordBefore(string line)
    {
        int start = line.Length;
        while (start > 0 && (char.IsLetterOrDigit(line[start - 1]) || line[start - 1] is '_' or '$' or '.')) start--;
        return line[start..];
    }

    private static readonly string[] Commands = [".help", ".caps", ".devices", ".stats", ".pcap", ".load", ".save", ".lang", ".reset", ".exit"];

    private bool Command(string line)
    {
        string[] words = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string arg = words.Length > 1 ? words[1] : "";
        switch (words[0])
        {
            case ".help":
                Write(Help);
                return true;
            case ".exit":
                ExitRequested = true;
                return true;
            case ".caps":
                Write(string.Join("\n", _manifest.Capabilities.Select(g => g.ToString())));
                return true;
            case ".devices":
                Write(string.Join("\n", _machine.Pci.Functions.Select(f => f.ToString())) + ExportState());
                return true;
            case ".stats":
                Write(Stats());
                return true;
            case ".lang" when arg is "js" or "cs":
                _loop.InvokeAsync(() => { _evaluator.Dispose(); return 0; }).GetAwaiter().GetResult();
                MakeEvaluator(arg == "js" ? ScriptLanguage.JavaScript : ScriptLanguage.CSharp);
                Write($"language: {arg} (same machine and handles; variables start empty)");
                return true;
            case ".reset":
                _loop.InvokeAsync(() => { _evaluator.Dispose(); return 0; }).GetAwaiter().GetResult();
                _broker.Release(_ctx);
                Start(Language);
                Write("reset: fresh variables and handles; DMA buffers, handlers and channels released");
                return true;
            case ".load" when arg.Length > 0:
                string code;
                try { code = InputFile.ReadText(arg, InputFile.MaxScriptBytes, "scripts"); }
                catch (InputFileException e) { Write($"error: {e.Message}"); return false; }
                return Submit(code);
            case ".save" when arg.Length > 0:
                try { File.WriteAllText(arg, string.Join("\n", _accepted) + "\n", Encoding.UTF8); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Write($"error: {arg}: {e.Message}"); return false; }
                Write($"saved {_accepted.Count} input(s) to {arg}");
                return true;
            case ".pcap" when arg.StartsWith("start ", StringComparison.Ordinal):
                string file = arg[6..].Trim();
                try { _capture?.Dispose(); _capture = PcapWriter.Create(file); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Write($"error: {file}: {e.Message}"); return false; }
                _machine.Links[0].Capture(_capture);
                Write($"capturing {_machine.Links[0].Name} to {file}");
                return true;
            case ".pcap" when arg == "stop":
                _machine.Links[0].Capture(null);
                long frames = _capture?.Frames ?? 0;
                _capture?.Dispose();
                _capture = null;
                Write($"capture stopped: {frames} frame(s)");
                return true;
            default:
                Write($"error: unknown command '{line}' (.help lists them)");
                return false;
        }
    }

    /// <summary>The functions given to a guest (<c>repl --export</c>): their clients, shown live by <c>.devices</c> and
    /// <c>.stats</c>; null when nothing is exported.</summary>
    public GuestExports? Exports { get; init; }

    /// <summary>The exported functions' state after the function list, or nothing.</summary>
    private string ExportState()
    {
        if (Exports is null || Exports.IsEmpty) return "";
        var sb = new StringBuilder("\n");
        Exports.AppendState(sb);
        return sb.ToString().TrimEnd('\n');
    }

    private string Stats()
    {
        var sb = new StringBuilder();
        foreach (DeviceFamily family in DeviceFamilies.All) family.AppendStats(_machine, sb);
        Exports?.AppendState(sb);
        foreach (Link l in _machine.Links)
            sb.Append($"wire {l.Name}: ").Append(string.Join(", ", l.Ports.Select(p => $"port {p.Index} tx {p.TxFrames} rx {p.RxFrames}"))).Append('\n');
        sb.Append($"repl: dma {_ctx.DmaOwner.UsedBytes} bytes; ");
        sb.Append(string.Join(", ", _ctx.Metrics.All.Select(m => $"{m.Name} {m.Value}")));
        return sb.ToString();
    }

    public const string Help = """
        .help               this list
        .caps               what this session may touch
        .devices            the machine's PCI functions (as lspci), and exported ones' guest clients
        .stats              device, wire, guest-client and V-Node counters
        .pcap start FILE    capture the wire to a pcap file; .pcap stop
        .load FILE          run a script file in the session
        .save FILE          write the inputs that worked, as a script that re-runs
        .lang js|cs         switch language (same machine and handles)
        .reset              fresh variables and handles
        .exit               leave
        """;

    public void Dispose()
    {
        _stopping.Cancel();
        _loop.InvokeAsync(() => { _evaluator.Dispose(); return 0; }).Wait(TimeSpan.FromSeconds(2));
        _loop.Dispose();
        _broker.Release(_ctx);
        _capture?.Dispose();
        _audit.Dispose();
    }
}
