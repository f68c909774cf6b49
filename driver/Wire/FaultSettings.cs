namespace NicScript.Driver.Wire;

/// <summary>What to do to frames on a wire, each a probability per frame, with a seed so a run is reproducible.</summary>
public sealed record FaultSettings(
    double Drop = 0,
    double Corrupt = 0,
    double Duplicate = 0,
    double Delay = 0,
    double Reorder = 0,
    int Seed = 1,
    TimeSpan? DelayTime = null)
{
    public TimeSpan EffectiveDelay => DelayTime ?? TimeSpan.FromMilliseconds(10);

    public bool IsNone => Drop == 0 && Corrupt == 0 && Duplicate == 0 && Delay == 0 && Reorder == 0;

    /// <summary>Checks every rate is in [0, 1]; returns the first problem or null.</summary>
    public string? Validate()
    {
        foreach (var (name, v) in new[] { ("drop", Drop), ("corrupt", Corrupt), ("duplicate", Duplicate), ("delay", Delay), ("reorder", Reorder) })
            if (!(v >= 0 && v <= 1)) return $"{name} rate must be in [0, 1], got {v}";
        if (EffectiveDelay < TimeSpan.Zero) return "delay time must not be negative";
        return null;
    }

    public override string ToString() =>
        $"drop={Drop} corrupt={Corrupt} duplicate={Duplicate} delay={Delay}@{EffectiveDelay.TotalMilliseconds}ms reorder={Reorder} seed={Seed}";
}
