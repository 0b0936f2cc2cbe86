using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Language;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Thermal;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>Thermal readings from a fake sysfs tree, and the ladder they move the hub along.</summary>
[Trait("needs", "native")]
public sealed class ThermalTests : IDisposable
{
    private readonly TempDirectory _sys = new();

    public void Dispose() => _sys.Dispose();

    private void Zone(int index, string type, double celsius)
    {
        var zone = Path.Combine(_sys.Path, "class", "thermal", $"thermal_zone{index}");
        Directory.CreateDirectory(zone);
        File.WriteAllText(Path.Combine(zone, "type"), type + "\n");
        File.WriteAllText(Path.Combine(zone, "temp"), ((int)(celsius * 1000)).ToString(CultureInfo.InvariantCulture) + "\n");
    }

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_sys.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private ThermalReading Read() => new ThermalMonitor(_sys.Path, vcgencmd: null).Read();

    [Fact]
    public void Raspberry_Pi_zone_cpufreq_and_firmware_flags_are_read()
    {
        Zone(0, "cpu-thermal", 71.3);
        Write("devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "1800000\n");
        Write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "600000\n");
        Write("devices/system/cpu/cpu0/cpufreq/scaling_max_freq", "1800000\n");
        Write("devices/platform/soc/soc:firmware/get_throttled", "0x50000\n");

        var reading = Read();

        Assert.Equal(71.3, reading.HottestCelsius!.Value, 3);
        Assert.Equal(1 / 3.0, reading.FrequencyRatio!.Value, 3);
        Assert.False(reading.FrequencyCapped); // a low clock at idle is not throttling
        Assert.Equal(ThrottleState.UnderVoltageOccurred | ThrottleState.ThrottlingOccurred, reading.Throttle);
        Assert.False(reading.IsThrottled); // it happened since boot, but not now
    }

    [Fact]
    public void Jetson_zones_are_read_and_the_hottest_counts()
    {
        Zone(0, "CPU-therm", 48.5);
        Zone(1, "GPU-therm", 52);
        Zone(2, "SOC0-therm", 77.25);
        Zone(3, "tj-therm", 160); // a broken sensor's reading is not believed

        var reading = Read();

        Assert.Equal(77.25, reading.HottestCelsius);
        Assert.Equal(3, reading.Zones.Count);
    }

    [Fact]
    public void A_capped_frequency_or_a_present_throttle_bit_is_throttling()
    {
        Write("devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "2400000\n");
        Write("devices/system/cpu/cpu0/cpufreq/scaling_max_freq", "1500000\n");
        Assert.True(Read().IsThrottled);

        File.Delete(Path.Combine(_sys.Path, "devices/system/cpu/cpu0/cpufreq/scaling_max_freq"));
        Write("devices/platform/soc/soc:firmware/get_throttled", "0x4\n");
        Assert.True(Read().IsThrottled);
    }

    [Fact]
    public void Vcgencmd_is_asked_when_the_sysfs_node_is_missing()
    {
        var script = Path.Combine(_sys.Path, "vcgencmd");
        File.WriteAllText(script, "#!/bin/sh\necho throttled=0x50005\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var reading = new ThermalMonitor(_sys.Path, script).Read();

        Assert.True(reading.IsThrottled);
        Assert.True(reading.Throttle.HasFlag(ThrottleState.UnderVoltage));
    }

    [Fact]
    public void Heat_steps_down_and_only_a_long_enough_cool_spell_steps_back_up()
    {
        var clock = new ManualClock();
        var options = new SchedulerOptions { HighWaterCelsius = 75, LowWaterCelsius = 65, Hold = TimeSpan.FromSeconds(60), StepDownDwell = TimeSpan.FromSeconds(10) };
        var scheduler = new TierScheduler(options, rungs: 4, clock);
        var log = new List<string>();
        void At(double celsius, double seconds = 2)
        {
            Zone(0, "cpu-thermal", celsius);
            if (scheduler.Update(Read()) is { } d)
            {
                log.Add($"{d.From}->{d.To}");
            }

            clock.Advance(TimeSpan.FromSeconds(seconds));
        }

        At(50);
        At(78);              // hot: one rung down
        At(79);              // still hot, within the dwell: wait
        At(79, 10);          // dwell over, still hot: another rung
        At(79);
        for (var i = 0; i < 20; i++)
        {
            At(i % 2 == 0 ? 74 : 76, 1); // hovering at the mark: at most one step per dwell, never up
        }

        Assert.Equal(["0->1", "1->2", "2->3"], log);
        for (var i = 0; i < 29; i++)
        {
            At(60); // cool, but not yet for the hold
        }

        Assert.Equal(3, scheduler.Current);
        At(60, 2);
        At(60, 2);
        Assert.Equal(2, scheduler.Current); // one rung up after the hold
        At(70, 30); // between the marks: the cool spell is broken
        At(60, 50);
        Assert.Equal(2, scheduler.Current);
        At(60, 10);
        At(60);
        Assert.Equal(1, scheduler.Current);
    }

    [Fact]
    public void A_throttle_bit_steps_down_even_when_the_board_is_cool()
    {
        var scheduler = new TierScheduler(new SchedulerOptions(), rungs: 3, new ManualClock());
        Zone(0, "cpu-thermal", 45);
        Write("devices/platform/soc/soc:firmware/get_throttled", "0x1\n"); // under-voltage now

        var decision = scheduler.Update(Read());

        Assert.NotNull(decision);
        Assert.Contains("throttled", decision.Reason, StringComparison.Ordinal);
    }

    /// <summary>
    /// A ladder of real quantizations, made here with the built llama-quantize from one random
    /// F16 model whose rows are multiples of 256: stepping down loads a different quantization type.
    /// </summary>
    [Fact]
    public async Task Stepping_down_the_ladder_loads_lighter_quantizations()
    {
        using var models = new TempDirectory();
        var f16 = GgufWriter.WriteLlama(Path.Combine(models.Path, "ladder-f16.gguf"), new LlamaShape(Embedding: 256, Layers: 1, Heads: 4, KvHeads: 4, FeedForward: 512));
        foreach (var type in new[] { QuantizationType.Q8_0, QuantizationType.Q4_K_M, QuantizationType.Q4_0 })
        {
            LanguageModelQuantizer.Quantize(f16, Path.Combine(models.Path, $"ladder-{type.ToString().ToLowerInvariant()}.gguf"), type, threads: 1);
        }

        var scheduler = new SchedulerOptions
        {
            Tiers =
            [
                new TierOptions { Name = "q8", Stt = "pocketsphinx", SlmModel = "ladder-q8_0.gguf", Threads = 1 },
                new TierOptions { Name = "q4km", Stt = "pocketsphinx", SlmModel = "ladder-q4_k_m.gguf", Threads = 1 },
                new TierOptions { Name = "q4", Stt = "pocketsphinx", SlmModel = "ladder-q4_0.gguf", Threads = 1 },
            ],
        };
        var intents = IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en"));
        var registry = DevicesFile.Load(Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml"));
        using var sets = new ModelSets(intents, registry, new ModelsOptions { Directory = models.Path }, new SpeechOptions { Engine = "pocketsphinx" }, new WhisperEngineOptions(), new PocketsphinxEngineOptions(), new SlmOptions { ContextTokens = 512 }, scheduler, NullLogger.Instance);

        var types = new List<string> { sets.BuildInitial().Llama!.FileTypeName };
        for (var rung = 1; rung < sets.Tiers.Count; rung++)
        {
            await sets.SwitchTierAsync(rung);
            var current = sets.TakeCurrent();
            Assert.Equal(rung, current.Tier);
            types.Add(current.Llama?.FileTypeName ?? "templates only");
        }

        Assert.Equal(["Q8_0", "Q4_K_M", "Q4_0", "templates only"], types);
        Assert.Equal("closed-set", sets.Tiers[^1].Name);
    }
}
