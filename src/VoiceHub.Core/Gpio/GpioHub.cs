using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Hub;

namespace VoiceHub.Core.Gpio;

/// <summary>One GPIO line of the hub's own hardware.</summary>
public sealed class GpioLineOptions
{
    /// <summary>gpiochip0, /dev/gpiochip0, or "simulated" (an in-memory chip, for demos and tests).</summary>
    public string Chip { get; set; } = "gpiochip0";

    [Range(0, 1023)]
    public int Line { get; set; }

    public bool ActiveLow { get; set; }

    public GpioBias Bias { get; set; } = GpioBias.AsIs;
}

/// <summary>The hub's buttons and LEDs (section <c>gpio</c>); relays are GPIO bindings of entities in the devices file.</summary>
public sealed class GpioOptions : IValidatableObject
{
    public const string Section = "gpio";

    /// <summary>The consumer name lines are claimed under (what gpioinfo shows).</summary>
    public string Consumer { get; set; } = "voicehub";

    public GpioLineOptions? StatusLed { get; set; }

    public GpioLineOptions? MuteLed { get; set; }

    /// <summary>Held: the hub listens without the wake word.</summary>
    public GpioLineOptions? PushToTalk { get; set; }

    /// <summary>Pressed: toggles the microphone mute.</summary>
    public GpioLineOptions? MuteButton { get; set; }

    /// <summary>The ReSpeaker HATs' APA102 LED ring; absent: none.</summary>
    public LedRingOptions? LedRing { get; set; }

    /// <summary>A temperature/humidity sensor on I2C, published to Home Assistant; absent: none.</summary>
    public RoomSensorOptions? RoomSensor { get; set; }

    /// <summary>A button's level must hold this long to count (contacts bounce for a few ms).</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(30);

    /// <summary>Data annotations do not look inside nested objects: the lines, ring and sensor are checked here.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var nested = new (string Name, object? Value)[] { ("statusLed", StatusLed), ("muteLed", MuteLed), ("pushToTalk", PushToTalk), ("muteButton", MuteButton), ("ledRing", LedRing), ("roomSensor", RoomSensor) };
        foreach (var (name, value) in nested.Where(n => n.Value is not null))
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(value!, new ValidationContext(value!), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult($"gpio.{name}: {result.ErrorMessage}", [.. result.MemberNames.Select(m => $"{name}.{m}")]);
            }
        }
    }
}

/// <summary>A blink pattern: level as a function of time since it started.</summary>
public sealed record LedPattern(string Name, TimeSpan On, TimeSpan Off, int Repeats = 0)
{
    public static readonly LedPattern Dark = new("off", TimeSpan.Zero, TimeSpan.FromSeconds(1));
    public static readonly LedPattern Lit = new("on", TimeSpan.FromSeconds(1), TimeSpan.Zero);
    public static readonly LedPattern Busy = new("busy", TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    public static readonly LedPattern Heartbeat = new("heartbeat", TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1900));
    public static readonly LedPattern Alarm = new("alarm", TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(150), Repeats: 3);

    /// <summary>Whether the LED is lit <paramref name="elapsed"/> after the pattern started; a finite pattern ends dark.</summary>
    public bool IsLit(TimeSpan elapsed)
    {
        var period = On + Off;
        if (period <= TimeSpan.Zero || Off <= TimeSpan.Zero)
        {
            return On > TimeSpan.Zero;
        }

        if (Repeats > 0 && elapsed >= period * Repeats)
        {
            return false;
        }

        return elapsed.Ticks % period.Ticks < On.Ticks;
    }

    /// <summary>The status LED's pattern for a pipeline state: dark while listening, lit while attending, busy while thinking.</summary>
    public static LedPattern ForState(PipelineState state, bool muted) => state switch
    {
        PipelineState.Error or PipelineState.Ringing => Alarm,
        _ when muted => Heartbeat,
        PipelineState.Listening or PipelineState.Starting => Dark,
        PipelineState.Woken or PipelineState.Hearing or PipelineState.FollowUp or PipelineState.Answering or PipelineState.Enrolling => Lit,
        _ => Busy,
    };
}

/// <summary>
/// The hub's GPIO: relay/LED outputs bound to entities (driven by commands, announced to Home
/// Assistant), the status and mute LEDs following <see cref="HubStatus"/>, and debounced
/// push-to-talk and mute buttons. Lines are claimed under the consumer name at start and given
/// back on dispose. A missing chip or a line in use is reported once, clearly, and the rest of
/// the hub runs on without it.
/// </summary>
public sealed partial class GpioHub : IDisposable
{
    private static readonly TimeSpan s_patternTick = TimeSpan.FromMilliseconds(25);
    private readonly GpioOptions _options;
    private readonly Func<string, IGpioChip> _openChip;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, IGpioChip> _chips = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IGpioOutput> _entityOutputs = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _claimed = [];
    private readonly List<Thread> _threads = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _ledLock = new();
    private IGpioOutput? _statusLed;
    private IGpioOutput? _muteLed;
    private LedPattern _pattern = LedPattern.Dark;
    private DateTimeOffset _patternStart;
    private ITimer? _ledTimer;
    private HubStatus? _status;

    /// <param name="openChip">Opens a chip by name; the default opens "simulated" in memory and anything else through System.Device.Gpio's libgpiod driver.</param>
    public GpioHub(GpioOptions options, ILogger logger, Func<string, IGpioChip>? openChip = null, TimeProvider? clock = null)
    {
        _options = options;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _openChip = openChip ?? (name => name == "simulated" ? new SimulatedGpioChip() : GpioChips.Open(name));
    }

    /// <summary>Problems met while claiming lines (also logged), for doctor and health.</summary>
    public IReadOnlyList<string> Problems => _problems;

    private readonly List<string> _problems = [];

    /// <summary>Push-to-talk held (true) or let go (false), after debouncing.</summary>
    public event Action<bool>? PushToTalk;

    /// <summary>The mute button was pressed (after debouncing).</summary>
    public event Action? MutePressed;

    /// <summary>A button's level settled after its bounce (name, pressed), on its watcher thread.</summary>
    public event Action<string, bool>? ButtonSettled;

    /// <summary>An entity's GPIO output changed (entity id, on).</summary>
    public event Action<string, bool>? OutputChanged;

    /// <summary>Entities whose GPIO line is claimed and can be driven.</summary>
    public IReadOnlyCollection<string> Outputs => _entityOutputs.Keys;

    /// <summary>Claims the lines: outputs of entities with a GPIO binding, LEDs and buttons; follows <paramref name="status"/>.</summary>
    public void Start(IEnumerable<Entity> entities, HubStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var entity in entities.Where(e => e.Gpio is not null))
        {
            var gpio = entity.Gpio!;
            if (TryClaim(gpio.Chip, $"{entity.Id} ({gpio.Chip} line {gpio.Line})", chip => chip.RequestOutput(gpio.Line, _options.Consumer, gpio.ActiveLow, initiallyActive: false)) is { } output)
            {
                _entityOutputs[entity.Id] = output;
            }
        }

        _statusLed = _options.StatusLed is { } s ? TryClaim(s.Chip, "status LED", c => c.RequestOutput(s.Line, _options.Consumer, s.ActiveLow, false)) : null;
        _muteLed = _options.MuteLed is { } m ? TryClaim(m.Chip, "mute LED", c => c.RequestOutput(m.Line, _options.Consumer, m.ActiveLow, false)) : null;
        if (_options.PushToTalk is { } p && TryClaim(p.Chip, "push-to-talk button", c => c.RequestInput(p.Line, _options.Consumer, p.ActiveLow, p.Bias)) is { } talk)
        {
            Watch(talk, "push-to-talk", active => PushToTalk?.Invoke(active));
        }

        if (_options.MuteButton is { } b && TryClaim(b.Chip, "mute button", c => c.RequestInput(b.Line, _options.Consumer, b.ActiveLow, b.Bias)) is { } mute)
        {
            Watch(mute, "mute", active =>
            {
                if (active)
                {
                    MutePressed?.Invoke();
                }
            });
        }

        if (_statusLed is not null || _muteLed is not null)
        {
            _status = status;
            status.Changed += Show;
            Show(status.Snapshot);
            _ledTimer = _clock.CreateTimer(_ => TickLeds(), null, s_patternTick, s_patternTick);
        }
    }

    /// <summary>Drives an entity's line; false when the entity has no claimed line.</summary>
    public bool SetOutput(string entityId, bool on)
    {
        if (!_entityOutputs.TryGetValue(entityId, out var output))
        {
            return false;
        }

        output.Drive(on);
        OutputChanged?.Invoke(entityId, on);
        return true;
    }

    public bool? OutputState(string entityId) => _entityOutputs.TryGetValue(entityId, out var output) ? output.IsActive : null;

    /// <summary>The status LED's current pattern, for tests and the journal.</summary>
    public string StatusPattern
    {
        get
        {
            lock (_ledLock)
            {
                return _pattern.Name;
            }
        }
    }

    private void Show(HubSnapshot snapshot)
    {
        lock (_ledLock)
        {
            var pattern = LedPattern.ForState(snapshot.State, snapshot.Muted);
            if (pattern != _pattern)
            {
                _pattern = pattern;
                _patternStart = _clock.GetUtcNow();
            }

            _muteLed?.Drive(snapshot.Muted);
        }

        TickLeds();
    }

    private void TickLeds()
    {
        lock (_ledLock)
        {
            try
            {
                _statusLed?.Drive(_pattern.IsLit(_clock.GetUtcNow() - _patternStart));
            }
            catch (GpioException e)
            {
                LogLineFailed(_logger, "status LED", e.Message);
                _statusLed = null;
            }
        }
    }

    private T? TryClaim<T>(string chipName, string what, Func<IGpioChip, T> claim)
        where T : class, IDisposable
    {
        try
        {
            if (!_chips.TryGetValue(chipName, out var chip))
            {
                _chips[chipName] = chip = _openChip(chipName);
            }

            var claimed = claim(chip);
            _claimed.Add(claimed);
            return claimed;
        }
        catch (Exception e) when (e is GpioException or Native.NativeLibraryNotFoundException)
        {
            _problems.Add($"{what}: {e.Message}");
            LogLineFailed(_logger, what, e.Message);
            return null;
        }
    }

    /// <summary>
    /// A thread per button: an edge starts the debounce; the level counts once no edge came for
    /// <see cref="GpioOptions.Debounce"/>, and only when it differs from the last level that counted.
    /// </summary>
    private void Watch(IGpioInput input, string name, Action<bool> changed)
    {
        var stable = input.IsActive; // read now: a press right after start must count
        var thread = new Thread(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (input.WaitForEdge(TimeSpan.FromMilliseconds(200)) is null)
                    {
                        continue;
                    }

                    while (input.WaitForEdge(_options.Debounce) is not null && !_stop.IsCancellationRequested)
                    {
                        // still bouncing
                    }

                    var level = input.IsActive;
                    if (level != stable)
                    {
                        stable = level;
                        changed(level);
                        ButtonSettled?.Invoke(name, level);
                    }
                }
                catch (GpioException e)
                {
                    LogLineFailed(_logger, name, e.Message);
                    return;
                }
            }
        })
        { IsBackground = true, Name = $"gpio {name}" };
        thread.Start();
        _threads.Add(thread);
    }

    public void Dispose()
    {
        if (_status is not null)
        {
            _status.Changed -= Show; // a change still queued for delivery must not drive a released line
        }

        _stop.Cancel();
        _ledTimer?.Dispose();
        foreach (var thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(1));
        }

        lock (_ledLock)
        {
            _statusLed?.Drive(false);
            _muteLed?.Drive(false);
            _statusLed = null;
            _muteLed = null;
        }

        foreach (var claimed in _claimed)
        {
            claimed.Dispose();
        }

        foreach (var chip in _chips.Values)
        {
            chip.Dispose();
        }

        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPIO {What} unavailable: {Reason}")]
    private static partial void LogLineFailed(ILogger logger, string what, string reason);
}
