using NicScript.Driver.Devices.Dpu;

namespace NicScript.Driver.Tests.Devices.Dpu;

/// <summary>One meter's bucket on its own (the agent's DPU-34…37 drive it through gRPC and the switch): RFC 2697 with
/// excess burst 0, in bytes (rate in kbit/s) or packets, on a clock the test holds.</summary>
public sealed class DpuMeterTests
{
    private const long Ms = 1_000_000;

    private static int Admitted(DpuMeter meter, int frames, int bytes, long nowNs)
    {
        int green = 0;
        for (int i = 0; i < frames; i++) green += meter.Admit(bytes, nowNs) ? 1 : 0;
        return green;
    }

    [Fact]
    public void Admit_ByteMeterOnAStillClock_PassesTheBurstThenTheRate()
    {
        var meter = new DpuMeter(10, rate: 8000, packets: false, nowNs: 0); // 1,000,000 B/s, burst max(10,000, 16,384)
        Assert.Equal(16_384, meter.Burst);
        Assert.Equal(16, Admitted(meter, 100, 1000, 0));
        Assert.Equal(10, Admitted(meter, 20, 1000, 10 * Ms)); // 10,000 B earned + the 384 left
        Assert.Equal((26L, 26_000L, 94L, 94_000L), (meter.PassPackets, meter.PassBytes, meter.DropPackets, meter.DropBytes));
    }

    [Fact]
    public void Admit_PacketMeter_CountsFramesNotBytes()
    {
        var meter = new DpuMeter(11, rate: 1000, packets: true, nowNs: 0); // burst max(1000 / 100, 16)
        Assert.Equal(16, meter.Burst);
        Assert.Equal(16, Admitted(meter, 20, 9000, 0));
        Assert.Equal(16, Admitted(meter, 20, 64, 1000 * Ms)); // a second earns 1000, the bucket holds 16
    }

    [Fact]
    public void SetRate_KeepsWhatWasEarned_AndTheNextFrameSeesTheNewRate()
    {
        var meter = new DpuMeter(12, rate: 8000, packets: false, nowNs: 0);
        Assert.Equal(16, Admitted(meter, 17, 1000, 0)); // 384 B left
        meter.SetRate(16000, packets: false, nowNs: 0);
        Assert.Equal(20_000, meter.Burst);
        Assert.Equal(2, Admitted(meter, 3, 1000, 1 * Ms)); // 384 + 2,000 B earned in 1 ms at 2,000,000 B/s
    }

    [Fact]
    public void Constructor_RateZero_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpuMeter(13, rate: 0, packets: false, nowNs: 0));
    }
}
