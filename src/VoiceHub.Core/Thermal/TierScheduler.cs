using System.ComponentModel.DataAnnotations;

namespace VoiceHub.Core.Thermal;

/// <summary>One rung of the ladder: which speech engine and language model, with how many threads.</summary>
public sealed class TierOptions
{
    [Required]
    public string Name { get; set; } = "default";

    /// <summary>"whisper", "pocketsphinx" (closed set), or "auto" (the speech section's choice).</summary>
    public string Stt { get; set; } = "auto";

    /// <summary>Whisper model file for this rung (name in the models directory, or a path); empty: the speech section's.</summary>
    public string WhisperModel { get; set; } = string.Empty;

    /// <summary>GGUF model of the fallback for this rung; "none": templates only; empty: the slm section's.</summary>
    public string SlmModel { get; set; } = string.Empty;

    /// <summary>Threads for the engines (0: as configured per engine).</summary>
    [Range(0, 64)]
    public int Threads { get; set; }
}

/// <summary>Thermal-aware scheduling (section <c>scheduler</c>).</summary>
public sealed class SchedulerOptions
{
    public const string Section = "scheduler";

    /// <summary>At or above this, step down a rung.</summary>
    [Range(30.0, 110.0)]
    public double HighWaterCelsius { get; set; } = 75;

    /// <summary>Below this for <see cref="Hold"/>, step back up a rung.</summary>
    [Range(20.0, 100.0)]
    public double LowWaterCelsius { get; set; } = 65;

    /// <summary>How long it must stay cool before a step up (no flapping).</summary>
    public TimeSpan Hold { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>After a step down, wait this long before another (the lighter rung needs time to cool the board).</summary>
    public TimeSpan StepDownDwell { get; set; } = TimeSpan.FromSeconds(20);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Where sysfs is (tests point it at a fake tree).</summary>
    public string SysRoot { get; set; } = "/sys";

    /// <summary>The Raspberry Pi firmware tool, used when the sysfs throttle node is missing.</summary>
    public string Vcgencmd { get; set; } = "/usr/bin/vcgencmd";

    /// <summary>Memory the next rung may take while the current one is still loaded; 0 never preloads.</summary>
    public long PreloadBudgetBytes { get; set; }

    /// <summary>Rungs from the best to the lightest; empty: the configured engines, then closed-set with templates only.</summary>
    public List<TierOptions> Tiers { get; set; } = [];
}

/// <summary>A change of rung and why.</summary>
public sealed record TierDecision(int From, int To, string Reason);

/// <summary>
/// Chooses the rung from thermal readings with hysteresis: any reading at or above the high-water
/// mark, or any present throttle flag, steps down one rung (again only after a dwell); stepping
/// back up needs the board below the low-water mark for the whole hold time, one rung per hold.
/// Between the marks nothing changes. Pure logic over readings and a clock, so tests replay
/// heat-up and cool-down scenarios.
/// </summary>
public sealed class TierScheduler(SchedulerOptions options, int rungs, TimeProvider? clock = null, int startRung = 0)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private DateTimeOffset? _coolSince;
    private DateTimeOffset _lastStepDown = DateTimeOffset.MinValue;

    /// <summary>The rung chosen now; starts where the model sets were built (start-up may have fallen past rungs that failed).</summary>
    public int Current { get; private set; } = startRung;

    /// <summary>Takes a reading; returns the decision when the rung changes.</summary>
    public TierDecision? Update(ThermalReading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        var now = _clock.GetUtcNow();
        var temperature = reading.HottestCelsius;
        var hot = temperature >= options.HighWaterCelsius || reading.IsThrottled;
        if (hot)
        {
            _coolSince = null;
            if (Current < rungs - 1 && now - _lastStepDown >= options.StepDownDwell)
            {
                _lastStepDown = now;
                return Move(Current + 1, reading.IsThrottled
                    ? $"throttled ({reading.Throttle & ThrottleState.Now}{(reading.FrequencyCapped ? ", frequency capped" : string.Empty)})"
                    : $"{temperature:0.0} °C >= {options.HighWaterCelsius} °C");
            }

            return null;
        }

        if (temperature is null || temperature < options.LowWaterCelsius)
        {
            _coolSince ??= now;
            if (Current > 0 && now - _coolSince >= options.Hold)
            {
                _coolSince = now; // the next rung up needs a hold of its own
                return Move(Current - 1, $"below {options.LowWaterCelsius} °C for {options.Hold.TotalSeconds:0} s");
            }

            return null;
        }

        _coolSince = null; // between the marks: hold the rung
        return null;
    }

    private TierDecision Move(int to, string reason)
    {
        var decision = new TierDecision(Current, to, reason);
        Current = to;
        return decision;
    }
}
