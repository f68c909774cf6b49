using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NicScript.Host.Guests;
using Xunit.Abstractions;

namespace NicScript.Host.Tests.Guests;

/// <summary>A guest machine: QEMU under TCG (this machine has no usable KVM) booting the Debian kernel with the tests'
/// initramfs. Its serial console is streamed into the test's output as it comes (with the time since QEMU started) and
/// kept, so a test can wait for a scenario's <c>NSTEST</c> line while it acts on the machine (QMP, the device's
/// server), and fail with the console's own words. Disposing kills a QEMU that is still running.</summary>
internal sealed partial class GuestVm : IDisposable
{
    private const int MemoryMiB = 512;
    private readonly Process _qemu;
    private readonly GuestBootOptions _options;
    private readonly ITestOutputHelper? _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<string> _console = []; // guarded by itself; pulsed on each line and when QEMU's output ends
    private readonly Thread _stdout, _stderr;
    private readonly TempDir _dir = new();
    private int _streamsOpen = 2;
    private bool _killed;
    private QmpClient? _qmp;

    private GuestVm(GuestEnvironment guest, GuestBootOptions options, ITestOutputHelper? output)
    {
        _options = options;
        _output = output;
        var psi = new ProcessStartInfo(guest.Qemu)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            StandardOutputEncoding = Encoding.Latin1, StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string a in Arguments(guest, options, options.Qmp ? QmpSocket : null)) psi.ArgumentList.Add(a);
        output?.WriteLine($"guest: {guest.QemuVersion}, {Path.GetFileName(guest.Kernel)}, scenario {options.Scenario}");
        _qemu = Process.Start(psi)!;
        _stdout = Reader(_qemu.StandardOutput, "");
        _stderr = Reader(_qemu.StandardError, "qemu: ");
    }

    /// <summary>Starts the guest; it runs <paramref name="options"/>' scenario and powers off.</summary>
    public static GuestVm Start(GuestEnvironment guest, GuestBootOptions options, ITestOutputHelper? output) => new(guest, options, output);

    /// <summary>Boots, runs the scenario and waits for the guest to power off (or the bound to pass).</summary>
    public static GuestRun Run(GuestEnvironment guest, GuestBootOptions options, ITestOutputHelper? output)
    {
        using GuestVm vm = Start(guest, options, output);
        return vm.WaitForExit();
    }

    /// <summary>The QEMU command line (<see cref="QemuCommandLine"/>, as <c>nicscript guest</c> builds it) with the
    /// scenario's kernel arguments and the devices.</summary>
    public static IReadOnlyList<string> Arguments(GuestEnvironment guest, GuestBootOptions options, string? qmpSocket)
    {
        var kernelArgs = new StringBuilder($"quiet nstest={options.Scenario}");
        foreach ((string key, string value) in options.Parameters)
        {
            if (value.Contains(' ') || key.Contains(' ')) throw new ArgumentException($"kernel argument nstest.{key}={value} has a space");
            kernelArgs.Append($" nstest.{key}={value}");
        }
        if (options.KernelArguments.Length > 0) kernelArgs.Append(' ').Append(options.KernelArguments);
        List<string> args = QemuCommandLine.Machine(guest.Kernel, guest.Initramfs, kernelArgs.ToString(), MemoryMiB, qmpSocket);
        for (int i = 0; i < options.Devices.Count; i++) args.AddRange(options.Devices[i].QemuArguments(chassis: i + 1));
        args.AddRange(options.QemuArguments);
        return args;
    }

    private string QmpSocket => _dir.File("qmp.sock");

    /// <summary>The machine's QMP (the boot must have asked for it with <see cref="GuestBootOptions.Qmp"/>).</summary>
    public QmpClient Qmp => _qmp ??= _options.Qmp
        ? QmpClient.Connect(QmpSocket, TimeSpan.FromSeconds(30))
        : throw new InvalidOperationException("this guest was started without QMP");

    /// <summary>Hot-unplugs <paramref name="device"/> as Azure revokes a VF (the hypervisor's PCI eject: QMP
    /// <c>device_del</c>; the guest's driver runs its remove path) and waits for QEMU's <c>DEVICE_DELETED</c>, which
    /// comes once the guest let go; false when it did not within <paramref name="timeout"/>.</summary>
    public bool Unplug(GuestDevice device, TimeSpan timeout)
    {
        Qmp.Execute("device_del", new JsonObject { ["id"] = device.Id });
        return Qmp.WaitForEvent("DEVICE_DELETED", timeout) is not null;
    }

    /// <summary>Plugs <paramref name="device"/> back into its root port (QMP <c>device_add</c>).</summary>
    public void Replug(GuestDevice device) => Qmp.Execute("device_add", device.Json());

    /// <summary>The value of the scenario's first <c>NSTEST KEY …</c> line, waiting for it; fails the test with the
    /// console if QEMU ends or the boot's bound passes first.</summary>
    public string WaitFor(string key)
    {
        lock (_console)
        {
            while (true)
            {
                GuestRun now = Snapshot();
                if (now.TryValue(key, out string? value)) return value;
                TimeSpan left = _options.Timeout - _clock.Elapsed;
                if (_streamsOpen == 0 || left <= TimeSpan.Zero)
                {
                    string why = _streamsOpen == 0 ? $"the guest printed no \"NSTEST {key}\"" : $"no \"NSTEST {key}\" within {_options.Timeout.TotalSeconds:0} s";
                    throw Xunit.Sdk.FailException.ForFailure(now.Explain(why));
                }
                Monitor.Wait(_console, left);
            }
        }
    }

    /// <summary>Waits for QEMU to end, killing it once the boot's bound has passed; the console in full.</summary>
    public GuestRun WaitForExit()
    {
        TimeSpan left = _options.Timeout - _clock.Elapsed;
        if (!_qemu.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero)) Kill();
        _qemu.WaitForExit();
        _stdout.Join();
        _stderr.Join();
        lock (_console) return Snapshot();
    }

    private GuestRun Snapshot()
    {
        string state = _killed ? $"QEMU killed at the {_options.Timeout.TotalSeconds:0} s bound"
            : _qemu.HasExited ? $"QEMU exited with {_qemu.ExitCode}" : "QEMU still running";
        return new GuestRun(_options.Scenario, [.. _console], state, _clock.Elapsed);
    }

    private void Kill()
    {
        _killed = true;
        try { _qemu.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { } // it ended meanwhile
    }

    private Thread Reader(StreamReader stream, string prefix)
    {
        var thread = new Thread(() =>
        {
            try
            {
                while (stream.ReadLine() is { } raw)
                {
                    string line = prefix + Clean(raw);
                    if (line.Length == 0) continue;
                    lock (_console) { _console.Add(line); Monitor.PulseAll(_console); }
                    _output?.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:0.00}] {line}");
                }
            }
            finally
            {
                lock (_console) { _streamsOpen--; Monitor.PulseAll(_console); }
            }
        }) { IsBackground = true, Name = "guest " + (prefix.Length == 0 ? "console" : "stderr") };
        thread.Start();
        return thread;
    }

    /// <summary>The line without terminal escapes (SeaBIOS clears the screen) and control characters.</summary>
    private static string Clean(string raw) => ControlCharacters().Replace(Escapes().Replace(raw, ""), "").TrimEnd();

    [GeneratedRegex(@"\x1B(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_a-z])")]
    private static partial Regex Escapes();

    [GeneratedRegex(@"[\x00-\x08\x0B-\x1F\x7F]")]
    private static partial Regex ControlCharacters();

    public void Dispose()
    {
        if (!_qemu.HasExited) Kill();
        _qemu.WaitForExit();
        _stdout.Join();
        _stderr.Join();
        _qmp?.Dispose();
        _qemu.Dispose();
        _dir.Dispose();
    }
}
