using System.Text.Json;

namespace NicScript.Host.Tests.Dpu;

/// <summary>
/// Issue 11's acceptance run: <c>nicscript run manifests/dpu-meter.yml</c> — the agent, a host driver script and traffic on
/// one machine — shows a meter of rate R delivering about R to the vport while the rest is dropped, in its counters.
/// Real time: the bounds are what a meter guarantees (never more than R·t + burst) and a wide lower bound for a busy
/// machine; the exact behaviour is DPU-34…37's, on a manual clock.
/// </summary>
[Collection(NonParallel.Name)]
public sealed class DpuMeterRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Run_shows_a_meter_delivering_its_rate_and_dropping_the_rest()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Ansi = Spectre.Console.AnsiSupport.No, Out = new Spectre.Console.AnsiConsoleOutput(output) });
        string[] args = ["run", Path.Combine(Repo.Root, "manifests/dpu-meter.yml"), "--json", "--cache", _dir.Path];
        Assert.Equal(0, await NicScript.Host.Program.RunAsync(new NicScript.Host.Cli.CliContext(console, output, error), args));
        string log = error.ToString();
        Assert.Matches(@"vport 0: rx_packets \d+ rx_bytes \d+ \([\d,]+ B/s\) rx_drop [1-9]\d*", log); // some were dropped
        using JsonDocument json = JsonDocument.Parse(output.ToString());
        JsonElement metrics = json.RootElement.GetProperty("vnodes")[0].GetProperty("metrics");
        double Gauge(string name) => metrics.GetProperty(name).GetProperty("value").GetDouble();
        double delivered = Gauge("delivered_bytes_per_s"), rate = Gauge("meter_bytes_per_s"), offered = Gauge("offered_bytes_per_s");
        Assert.Equal(1_000_000, rate);
        Assert.True(offered > 1.5 * rate, $"offered {offered:N0} B/s, twice the meter's rate was asked");
        Assert.InRange(delivered, 0.5 * rate, rate + 16_384 / 3.0); // a meter never passes more than R·t + its burst
    }
}
