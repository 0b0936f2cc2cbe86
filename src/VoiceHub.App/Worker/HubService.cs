using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.Hosting;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Thermal;
using VoiceHub.Core.Wake;
using VoiceHub.Core.Wake.Neural;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Dialog;
using VoiceHub.Core.HomeAssistant;
using VoiceHub.Core.Models;
using VoiceHub.Core.Mqtt;

namespace VoiceHub.App.Worker;

/// <summary>What the command line asked of this run.</summary>
public sealed record RunSettings
{
    /// <summary>A WAV file or alsa:DEVICE replacing the configured input.</summary>
    public string? Input { get; init; }

    /// <summary>Stop when the input ends and its commands are published.</summary>
    public bool Once { get; init; }

    /// <summary>Read a file input as fast as it decodes instead of in real time.</summary>
    public bool Fast { get; init; }

    /// <summary>Told about every utterance (the CLI prints what was heard and done).</summary>
    public Action<UtteranceTrace>? Report { get; init; }

    /// <summary>Told when something noteworthy happens (which input, which broker).</summary>
    public Action<string>? Announce { get; init; }

    /// <summary>Run without a configuration file: the demo home, and the demo recording when there is no microphone.</summary>
    public bool EmbeddedDefaults { get; init; }

    /// <summary>Told when the hub fails for good (the host then stops; the command exits non-zero).</summary>
    public Action<Exception>? Failed { get; init; }
}

/// <summary>
/// The appliance: MQTT (the configured broker, or a private mosquitto when none answers),
/// discovery and the Home Assistant bridge, GPIO, the models of the current rung, the thermal
/// scheduler, file reloads, and the pipeline over the microphone. The pipeline is restarted when
/// it fails (the hub keeps listening); systemd hears READY, STATUS and the watchdog.
/// </summary>
public sealed partial class HubService(
    IOptions<HubOptions> hub,
    IOptions<MqttOptions> mqtt,
    IOptions<ModelsOptions> models,
    IOptions<SpeechOptions> speech,
    IOptions<WhisperEngineOptions> whisper,
    IOptions<PocketsphinxEngineOptions> pocketsphinx,
    IOptions<SlmOptions> slm,
    IOptions<AudioOptions> audio,
    IOptions<WakeOptions> wake,
    IOptions<PipelineOptions> pipeline,
    IOptions<SpeakerOptions> speaker,
    IOptions<GpioOptions> gpio,
    IOptions<SchedulerOptions> scheduler,
    RunSettings run,
    SystemdNotifier notifier,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger("VoiceHub");
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly HubStatus _status = new();
    private MqttBus? _bus;

    public HubStatus Status => _status;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunHubAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            run.Failed?.Invoke(e); // the host stops; `voicehub run` exits non-zero so systemd restarts it
            throw;
        }
        finally
        {
            await DisposeOwnedAsync().ConfigureAwait(false);
        }

        if (_bus is { LostAtShutdown: > 0 } bus)
        {
            // Logged by the bus; the exit status tells systemd (and a script) that commands were lost.
            run.Failed?.Invoke(new IOException($"{bus.LostAtShutdown} undelivered command(s) lost at shutdown: the outbox could not be written"));
        }
    }

    private async Task RunHubAsync(CancellationToken stoppingToken)
    {
        var intentsPath = hub.Value.Intents.Length > 0 ? hub.Value.Intents : Cli.Inputs.DefaultIntents();
        // The demo home only for a first look without configuration: on the appliance it would sit
        // beside the real, discovered home and answer to its names.
        var devicesPath = hub.Value.Devices.Length > 0 ? hub.Value.Devices
            : run.EmbeddedDefaults ? Path.Combine(AppContext.BaseDirectory, "demo", "devices.yaml")
            : Path.Combine(AppContext.BaseDirectory, "demo", "no-devices.yaml");
        var intents = IntentSet.Load(intentsPath);
        var devices = DevicesFile.Load(devicesPath);
        var state = hub.Value.ResolveStateDirectory();
        Directory.CreateDirectory(state);

        var bus = await StartMqttAsync(state).ConfigureAwait(false);
        var home = new Home(devices, loggers.CreateLogger("VoiceHub.Discovery"), mqtt.Value.DiscoveryPrefix, mqtt.Value.MaxDiscoveryPayloadBytes, $"voicehub_{mqtt.Value.HubId}",
            mqtt.Value.MaxDiscoveredEntities, mqtt.Value.DiscoveryCoalescing);
        Own(home);
        var states = new EntityStateStore(loggers.CreateLogger("VoiceHub.States"));
        bus.MessageReceived += message =>
        {
            if (!home.ApplyDiscovery(message.Topic, message.Payload))
            {
                states.Handle(message.Topic, message.Payload);
            }
        };
        foreach (var topic in states.Bind(home.Current))
        {
            bus.Subscribe(topic);
        }

        bus.Subscribe(home.DiscoverySubscription);

        var gpioHub = new GpioHub(gpio.Value, loggers.CreateLogger("VoiceHub.Gpio"));
        Own(gpioHub);
        gpioHub.Start(home.Current.Entities, _status);
        gpioHub.MutePressed += () => _status.SetMuted(!_status.Muted);
        if (gpio.Value.LedRing is { } ringOptions)
        {
            var ringLogger = loggers.CreateLogger("VoiceHub.LedRing");
            StartOptional(() => LedRing.Open(ringOptions, ringLogger), ring => ring.Follow(_status),
                problem => LogRingUnavailable(ringLogger, ringOptions.SpiBus, ringOptions.ChipSelect, problem));
        }

        var roomSensor = false;
        if (gpio.Value.RoomSensor is { } sensorOptions)
        {
            var sensorLogger = loggers.CreateLogger("VoiceHub.RoomSensor");
            roomSensor = StartOptional(() => RoomSensor.Open(sensorOptions, sensorLogger), sensor => sensor.Start(_status),
                problem => LogSensorUnavailable(sensorLogger, sensorOptions.Kind, sensorOptions.I2cBus, problem));
        }

        var bridge = new HomeAssistantBridge(bus, _status, mqtt.Value.DiscoveryPrefix, mqtt.Value.HubId, loggers.CreateLogger("VoiceHub.HomeAssistant"), gpioHub, states);
        bridge.Start(home.Current.Entities, [.. intents.IntentNames, "timer_finished"], roomSensor);

        var modelSets = new ModelSets(intents, home.Current, models.Value, speech.Value, whisper.Value, pocketsphinx.Value, slm.Value, scheduler.Value, loggers.CreateLogger("VoiceHub.Models"), states);
        Own(modelSets);
        var initial = await Task.Run(() => modelSets.BuildInitial(), stoppingToken).ConfigureAwait(false);
        _status.SetThermal(null, false, initial.Description);
        home.Changed += registry =>
        {
            foreach (var topic in states.Bind(registry))
            {
                bus.Subscribe(topic);
            }

            _ = modelSets.UpdateAsync(null, registry);
        };

        using var timers = new TimerService();
        var speakerLogger = loggers.CreateLogger("VoiceHub.Speaker");
        // The feed may run ahead of the microphone by what the capture queue holds (about 1.3 s when the
        // audio loop is busy) plus the sound card's buffer: room for both, so a busy moment costs no alignment.
        var feed = new SpeakerFeed(TimeSpan.FromSeconds(2), problem => LogSpeakerFeed(speakerLogger, problem));
        Own(feed);
        var espeak = new EspeakSpeaker(run.Input is not null && run.Fast ? new SpeakerOptions { Device = "none" } : speaker.Value, speakerLogger, feed: feed);
        Own(espeak);
        var actuator = new Actuator(bus, gpioHub, states, bridge, loggers.CreateLogger("VoiceHub.Actuation"));
        using var detector = pipeline.Value.WakeRequired ? CreateWakeDetector() : null;
        using var conversation = new VoicePipeline(pipeline.Value, audio.Value.Vad, detector, modelSets, actuator, espeak, _status, timers, loggers.CreateLogger("VoiceHub.Pipeline"), echo: audio.Value.Echo);
        conversation.UtteranceCompleted += trace => run.Report?.Invoke(trace);
        gpioHub.PushToTalk += held => conversation.PushToTalk = held;
        timers.Finished += timer =>
        {
            try
            {
                bridge.PublishIntent(new IntentResult { Text = string.Empty, Intent = "timer_finished", Status = IntentStatus.Ok, Response = timer.Name ?? "timer" }, DateTimeOffset.UtcNow);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogTimerEventFailed(_logger, e.Message); // the spoken alert still comes
            }
        };
        modelSets.BuildFailed += reason => LogModelsFailed(_logger, reason);

        using var reloads = new FileReloader([intentsPath, devicesPath], hub.Value.ReloadCheckInterval, () =>
        {
            try
            {
                var newIntents = IntentSet.Load(intentsPath);
                home.ReplaceDevicesFile(DevicesFile.Load(devicesPath));
                _ = modelSets.UpdateAsync(newIntents, home.Current);
                LogReloaded(_logger, intentsPath, devicesPath);
            }
            catch (Exception e) when (e is ConfigurationFileException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
            {
                LogReloadFailed(_logger, e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // This runs on a timer thread, where an exception would end the process: whatever an
                // edited file does, the hub keeps the home it has.
                LogReloadCrashed(_logger, e);
            }
        });
        using var thermal = StartThermal(modelSets, stoppingToken);
        using var watchdog = StartWatchdog(conversation, stoppingToken);

        var input = run.Input ?? audio.Value.Input;
        if (run.Input is null && run.EmbeddedDefaults && input.StartsWith("alsa:", StringComparison.Ordinal) && File.Exists(DemoWav) && CannotCapture(input["alsa:".Length..]) is { } why)
        {
            // A first look on a machine without a microphone: show what the hub does with the demo
            // recording. Never with a configuration (the appliance): there it waits for the microphone.
            input = DemoWav;
            run.Announce?.Invoke($"no microphone ({why}); playing {DemoWav} instead (give --input alsa:DEVICE or a WAV)");
        }

        notifier.Ready($"listening on {input}, {initial.Description}");
        await ListenAsync(conversation, input, bus, stoppingToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The configured wake detector. A wake model that cannot be used is logged and the phrases are
    /// listened for instead; when the neural stage itself cannot run (its models are missing), the
    /// pocketsphinx keyword spotter listens.
    /// </summary>
    private IWakeDetector CreateWakeDetector()
    {
        var logger = loggers.CreateLogger("VoiceHub.Wake");
        // A copy: falling back must not change the options anything else reads.
        var options = wake.Value.Clone();
        while (true)
        {
            try
            {
                return WakeDetectors.Create(options, models.Value, line => LogWakeTraining(logger, line), line => LogWakePhraseAdvice(logger, line));
            }
            catch (Exception e) when (IsWakeSetupFailure(e) && options.Model is not null)
            {
                LogWakeModelUnusable(logger, e.Message);
                options.Model = null;
                options.ModelThreshold = null;
            }
            catch (Exception e) when (IsWakeSetupFailure(e) && options.Neural)
            {
                LogNeuralWakeUnusable(logger, e.Message);
                options.Neural = false;
            }
        }
    }

    /// <summary>What building the wake stage can fail with that another wake detector may not.</summary>
    private static bool IsWakeSetupFailure(Exception e) =>
        e is WakeModelException or WakeEnrollmentException or IOException or UnauthorizedAccessException
            or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or VoiceHub.Native.NativeEngineException;

    /// <summary>Runs the pipeline over the input, restarting it when it fails, until the input ends (files) or the hub stops.</summary>
    private async Task ListenAsync(VoicePipeline conversation, string input, MqttBus bus, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            var source = AudioSources.Create(input, audio.Value, realTime: !run.Fast, loggers.CreateLogger("VoiceHub.Audio"));
            run.Announce?.Invoke($"listening on {source.Name}{(pipeline.Value.WakeRequired ? $" for \"{string.Join("\", \"", conversation.WakePhrases)}\"" : string.Empty)}");
            try
            {
                await conversation.RunAsync(source, stoppingToken).ConfigureAwait(false);
                if (!input.StartsWith("alsa:", StringComparison.Ordinal))
                {
                    break; // a file ended
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (AudioFormatException) when (!input.StartsWith("alsa:", StringComparison.Ordinal))
            {
                throw; // a file that cannot be read will not read better on the next try: the run ends with its one line
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPipelineFailed(_logger, e, delay.TotalSeconds);
                _status.SetState(PipelineState.Error);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }

        // The input ended: every command it caused is published (or expired) before --once exits.
        var deadline = DateTime.UtcNow + mqtt.Value.CommandExpiry;
        while (bus.Health is { Pending: > 0 } or { InFlight: > 0 } && DateTime.UtcNow < deadline && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(50, stoppingToken).ConfigureAwait(false);
        }

        if (run.Once)
        {
            lifetime.StopApplication();
        }
        else
        {
            run.Announce?.Invoke("the input ended; still serving MQTT and Home Assistant (Ctrl-C to stop)");
        }
    }

    private static string DemoWav => Path.Combine(AppContext.BaseDirectory, "demo", "demo.wav");

    private string? CannotCapture(string device)
    {
        try
        {
            using var pcm = Native.Audio.AlsaPcm.Open(device, capture: true, AudioFile.SampleRate, 1, audio.Value.BlockDuration);
            return null;
        }
        catch (Native.Audio.AudioDeviceGoneException e)
        {
            return e.Message;
        }
    }

    /// <summary>The configured broker, or (when nothing answers on localhost) a private mosquitto on a free loopback port.</summary>
    private async Task<MqttBus> StartMqttAsync(string state)
    {
        var options = mqtt.Value;
        var local = options.Host is "localhost" or "127.0.0.1" or "::1";
        if (local && options.StartPrivateBroker && !MosquittoBroker.AnswersOnLoopback(options.Host, options.Port))
        {
            var broker = MosquittoBroker.Start(Path.Combine(state, "mosquitto"));
            _owned.Add(new Disposal(() => broker.Dispose()));
            options = Copy(options, "127.0.0.1", broker.Port);
            run.Announce?.Invoke($"no MQTT broker on {mqtt.Value.Host}:{mqtt.Value.Port}; started a private mosquitto on 127.0.0.1:{broker.Port}");
        }
        else
        {
            run.Announce?.Invoke($"MQTT broker {options.Host}:{options.Port}");
        }

        if (options.OutboxFile.Length == 0)
        {
            options = Copy(options, options.Host, options.Port, Path.Combine(state, "outbox.jsonl"));
        }

        var bus = new MqttBus(options, loggers.CreateLogger("VoiceHub.Mqtt"));
        _owned.Add(bus);
        _bus = bus;
        bus.CommandExpired += receipt => _ = Task.Run(() => _status.SetState(PipelineState.Error));
        bus.Start();
        await Task.Yield();
        return bus;
    }

    private static MqttOptions Copy(MqttOptions o, string host, int port, string? outbox = null) => new()
    {
        Host = host, Port = port, ProtocolVersion = o.ProtocolVersion, HubId = o.HubId, Username = o.Username, Password = o.Password,
        CaFile = o.CaFile, CertificateFile = o.CertificateFile, KeyFile = o.KeyFile, KeepAlive = o.KeepAlive, MaxReconnectDelay = o.MaxReconnectDelay,
        DiscoveryPrefix = o.DiscoveryPrefix, CommandQos = o.CommandQos, CommandExpiry = o.CommandExpiry, OutboxFile = outbox ?? o.OutboxFile,
        MaxDiscoveryPayloadBytes = o.MaxDiscoveryPayloadBytes, StartPrivateBroker = o.StartPrivateBroker,
        MaxDiscoveredEntities = o.MaxDiscoveredEntities, DiscoveryCoalescing = o.DiscoveryCoalescing,
    };

    /// <summary>Polls the thermal sources and moves down or up the ladder; the switch happens between utterances.</summary>
    private Timer StartThermal(ModelSets modelSets, CancellationToken stoppingToken)
    {
        var monitor = new ThermalMonitor(scheduler.Value.SysRoot, scheduler.Value.Vcgencmd);
        var decide = new TierScheduler(scheduler.Value, modelSets.Tiers.Count, startRung: modelSets.Current.Tier);
        var busy = 0;
        return new Timer(_ =>
        {
            if (stoppingToken.IsCancellationRequested || Interlocked.Exchange(ref busy, 1) == 1)
            {
                return; // stopping, or the previous reading is still being taken
            }

            try
            {
                var reading = monitor.Read();
                if (decide.Update(reading) is { } decision)
                {
                    LogTier(_logger, modelSets.Tiers[decision.From].Name, modelSets.Tiers[decision.To].Name, decision.Reason);
                    _ = modelSets.SwitchTierAsync(decision.To);
                }

                _status.SetThermal(reading.HottestCelsius, reading.IsThrottled, modelSets.Tiers[decide.Current].Name);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogThermalFailed(_logger, e.Message); // the hub keeps its tier and tries again next time
            }
            finally
            {
                Volatile.Write(ref busy, 0);
            }
        }, null, TimeSpan.Zero, scheduler.Value.PollInterval);
    }

    /// <summary>WATCHDOG=1 unless an utterance has been stuck in a stage for a whole interval: then systemd restarts the service.</summary>
    private Timer? StartWatchdog(VoicePipeline conversation, CancellationToken stoppingToken)
    {
        if (notifier.WatchdogInterval is not { } interval)
        {
            return null;
        }

        return new Timer(_ =>
        {
            // A missing microphone is not a hang (the source retries); an utterance stuck in a stage is.
            if (!stoppingToken.IsCancellationRequested && (conversation.BusySince is not { } busy || DateTimeOffset.UtcNow - busy < interval))
            {
                notifier.Watchdog();
            }

            notifier.Status($"{_status.Snapshot.State.ToString().ToLowerInvariant()}; last: {_status.Snapshot.LastTranscript ?? "-"}");
        }, null, TimeSpan.Zero, interval / 2);
    }

    private void Own(IDisposable disposable) => _owned.Add(new Disposal(disposable.Dispose));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        notifier.Stopping();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Frees what the run owns once the run itself has ended: never while a stage may still be
    /// decoding (a shutdown that times out leaves the models to the process exit instead).
    /// </summary>
    private async Task DisposeOwnedAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }

        _owned.Clear();
    }

    private sealed class Disposal(Action dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Opens optional hardware (an LED ring, a sensor) and owns it; a board without it is one warning, not a failure.</summary>
    private bool StartOptional<T>(Func<T> open, Action<T> start, Action<string> unavailable)
        where T : IDisposable
    {
        try
        {
            var device = open();
            Own(device);
            start(device);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException or InvalidOperationException)
        {
            unavailable(e.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No LED ring: /dev/spidev{Bus}.{ChipSelect} could not be opened ({Problem}); enable SPI (dtparam=spi=on) or remove gpio.ledRing")]
    private static partial void LogRingUnavailable(ILogger logger, int bus, int chipSelect, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No room sensor: {Kind} on /dev/i2c-{Bus} could not be opened ({Problem}); enable I2C (dtparam=i2c_arm=on) or remove gpio.roomSensor")]
    private static partial void LogSensorUnavailable(ILogger logger, string kind, int bus, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded {Intents} and {Devices}")]
    private static partial void LogReloaded(ILogger logger, string intents, string devices);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reload failed, keeping the previous intents and devices: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reload failed unexpectedly, keeping the previous intents and devices")]
    private static partial void LogReloadCrashed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Wake model not used, listening for the wake phrase instead: {Problem}")]
    private static partial void LogWakeModelUnusable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Neural wake stage not available, listening with the keyword spotter: {Problem}")]
    private static partial void LogNeuralWakeUnusable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Advice}")]
    private static partial void LogWakePhraseAdvice(ILogger logger, string advice);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake: {Line}")]
    private static partial void LogWakeTraining(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Error, Message = "The pipeline failed; restarting it in {Seconds} s")]
    private static partial void LogPipelineFailed(ILogger logger, Exception exception, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Speaker feed: {Problem}")]
    private static partial void LogSpeakerFeed(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the thermal sources failed: {Reason}")]
    private static partial void LogThermalFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing a finished timer failed: {Reason}")]
    private static partial void LogTimerEventFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Building models failed; the previous set stays: {Reason}")]
    private static partial void LogModelsFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduler: {From} -> {To} ({Reason})")]
    private static partial void LogTier(ILogger logger, string from, string to, string reason);
}
