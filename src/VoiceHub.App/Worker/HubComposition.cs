using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Diagnostics;
using VoiceHub.Core.Dialog;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.HomeAssistant;
using VoiceHub.Core.Hosting;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Models;
using VoiceHub.Core.Mqtt;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Thermal;
using VoiceHub.Core.Wake;

namespace VoiceHub.App.Worker;

/// <summary>
/// The composition root: every stage of the hub, in the order data flows through them, and how
/// they are connected. The stages are scoped to one run of the hub: <see cref="HubService"/> opens
/// the scope, and closing it (after the run has ended, never while a stage may still be decoding)
/// disposes them in the reverse of the order they were built.
/// </summary>
public static partial class HubComposition
{
    public static IServiceCollection AddVoiceHub(this IServiceCollection services, RunSettings run)
    {
        services.AddSingleton(run);
        services.AddSingleton(_ => new SystemdNotifier());
        services.AddHostedService<HubService>();

        // The home: what the hub knows and where it keeps its state.
        services.AddScoped(sp => HomeFiles(Get<HubOptions>(sp), run));
        services.AddScoped(sp =>
        {
            var logger = Logger(sp, "VoiceHub");
            return new HubStatus(e => LogStatusListenerFailed(logger, e));
        });
        services.AddScoped(sp => IntentSet.Load(sp.GetRequiredService<HubFiles>().Intents));

        // MQTT, the devices it brings and their states.
        services.AddScoped(sp =>
        {
            var connection = new MqttConnection(Get<MqttOptions>(sp), sp.GetRequiredService<HubFiles>().StateDirectory, sp.GetRequiredService<ILoggerFactory>(), run.Announce);
            var status = sp.GetRequiredService<HubStatus>();
            connection.Bus.CommandExpired += _ => status.SetState(PipelineState.Error);
            return connection;
        });
        services.AddScoped(sp => new EntityStateStore(Logger(sp, "VoiceHub.States")));
        services.AddScoped(sp =>
        {
            var mqtt = Get<MqttOptions>(sp);
            var bus = sp.GetRequiredService<MqttConnection>().Bus;
            var states = sp.GetRequiredService<EntityStateStore>();
            var home = new Home(DevicesFile.Load(sp.GetRequiredService<HubFiles>().Devices), Logger(sp, "VoiceHub.Discovery"), mqtt.DiscoveryPrefix, mqtt.MaxDiscoveryPayloadBytes,
                $"voicehub_{mqtt.HubId}", mqtt.MaxDiscoveredEntities, mqtt.DiscoveryCoalescing);
            bus.MessageReceived += message =>
            {
                if (!home.ApplyDiscovery(message.Topic, message.Payload))
                {
                    states.Handle(message.Topic, message.Payload);
                }
            };
            Follow(home.Current);
            home.Changed += Follow;
            bus.Subscribe(home.DiscoverySubscription);
            return home;

            void Follow(DeviceRegistry registry)
            {
                foreach (var topic in states.Bind(registry))
                {
                    bus.Subscribe(topic);
                }
            }
        });

        // GPIO and the add-on boards; Home Assistant's view of the hub.
        services.AddScoped(sp =>
        {
            var gpio = new GpioHub(Get<GpioOptions>(sp), Logger(sp, "VoiceHub.Gpio"));
            var status = sp.GetRequiredService<HubStatus>();
            gpio.Start(sp.GetRequiredService<Home>().Current.Entities, status);
            gpio.MutePressed += status.ToggleMuted;
            return gpio;
        });
        services.AddScoped(sp =>
        {
            var boards = new AddOnBoards(Get<GpioOptions>(sp), sp.GetRequiredService<HubStatus>(), sp.GetRequiredService<ILoggerFactory>());
            boards.Start();
            return boards;
        });
        services.AddScoped(sp =>
        {
            var mqtt = Get<MqttOptions>(sp);
            var bridge = new HomeAssistantBridge(sp.GetRequiredService<MqttConnection>().Bus, sp.GetRequiredService<HubStatus>(), mqtt.DiscoveryPrefix, mqtt.HubId,
                Logger(sp, "VoiceHub.HomeAssistant"), sp.GetRequiredService<GpioHub>(), sp.GetRequiredService<EntityStateStore>());
            bridge.Start(sp.GetRequiredService<Home>().Current.Entities, [.. sp.GetRequiredService<IntentSet>().IntentNames, IntentNames.TimerFinished], sp.GetRequiredService<AddOnBoards>().HasRoomSensor);
            return bridge;
        });

        // Recognition and understanding: the models of the current rung, rebuilt as the home changes.
        services.AddScoped(sp =>
        {
            var logger = Logger(sp, "VoiceHub.Models");
            var home = sp.GetRequiredService<Home>();
            var models = new ModelSets(sp.GetRequiredService<IntentSet>(), home.Current, Get<ModelsOptions>(sp), Get<SpeechOptions>(sp), Get<WhisperEngineOptions>(sp),
                Get<PocketsphinxEngineOptions>(sp), Get<SlmOptions>(sp), Get<SchedulerOptions>(sp), logger, sp.GetRequiredService<EntityStateStore>());
            models.BuildFailed += reason => LogModelsFailed(logger, reason);
            home.Changed += registry => _ = models.UpdateAsync(null, registry);
            return models;
        });
        services.AddScoped(sp => new ThermalScheduler(Get<SchedulerOptions>(sp), sp.GetRequiredService<ModelSets>(), sp.GetRequiredService<HubStatus>(), Logger(sp, "VoiceHub")));
        services.AddScoped(sp => new HomeFilesReloader(sp.GetRequiredService<HubFiles>(), Get<HubOptions>(sp).ReloadCheckInterval, sp.GetRequiredService<Home>(), sp.GetRequiredService<ModelSets>(), Logger(sp, "VoiceHub")));
        services.AddScoped(sp => new WakeStage(Get<PipelineOptions>(sp).WakeRequired, Get<WakeOptions>(sp), Get<ModelsOptions>(sp), Logger(sp, "VoiceHub.Wake"),
            sp.GetRequiredService<HubFiles>().StateDirectory, sp.GetRequiredService<SystemdNotifier>(), sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping));

        // Dialog, actuation, feedback.
        services.AddScoped(sp =>
        {
            var timers = new TimerService();
            var bridge = sp.GetRequiredService<HomeAssistantBridge>();
            var logger = Logger(sp, "VoiceHub");
            timers.Finished += timer =>
            {
                try
                {
                    bridge.PublishIntent(new IntentResult { Text = string.Empty, Intent = IntentNames.TimerFinished, Status = IntentStatus.Ok, Response = timer.Name ?? "timer" }, DateTimeOffset.UtcNow);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    LogTimerEventFailed(logger, e.Message); // the spoken alert still comes
                }
            };
            return timers;
        });
        services.AddScoped(sp => new Actuator(sp.GetRequiredService<MqttConnection>().Bus, sp.GetRequiredService<GpioHub>(), sp.GetRequiredService<EntityStateStore>(),
            sp.GetRequiredService<HomeAssistantBridge>(), Logger(sp, "VoiceHub.Actuation")));
        services.AddScoped(sp =>
        {
            // The feed may run ahead of the microphone by what the capture queue holds (about 1.3 s when the
            // audio loop is busy) plus the sound card's buffer: room for both, so a busy moment costs no alignment.
            var logger = Logger(sp, "VoiceHub.Speaker");
            return new SpeakerFeed(TimeSpan.FromSeconds(2), problem => LogSpeakerFeed(logger, problem));
        });
        services.AddScoped<ISpeaker>(sp => new EspeakSpeaker(run.Fast ? new SpeakerOptions { Device = "none" } : Get<SpeakerOptions>(sp),
            Logger(sp, "VoiceHub.Speaker"), feed: sp.GetRequiredService<SpeakerFeed>()));
        services.AddScoped(sp => new DebugRecorder(Get<HubOptions>(sp).DebugRecording, sp.GetRequiredService<HubFiles>().StateDirectory, Logger(sp, "VoiceHub.DebugRecording")));

        // The conversation over the microphone, and what watches it.
        services.AddScoped(sp =>
        {
            var audio = Get<AudioOptions>(sp);
            var wakeStage = sp.GetRequiredService<WakeStage>();
            var pipeline = new VoicePipeline(Get<PipelineOptions>(sp), audio.Vad, wakeStage.Detector, sp.GetRequiredService<ModelSets>(), sp.GetRequiredService<Actuator>(),
                sp.GetRequiredService<ISpeaker>(), sp.GetRequiredService<HubStatus>(), sp.GetRequiredService<TimerService>(), Logger(sp, "VoiceHub.Pipeline"), echo: audio.Echo,
                recorder: sp.GetRequiredService<DebugRecorder>());
            pipeline.UtteranceCompleted += trace => run.Report?.Invoke(trace);
            pipeline.WakeRetired += wakeStage.Retire;
            sp.GetRequiredService<GpioHub>().PushToTalk += held => pipeline.PushToTalk = held;
            return pipeline;
        });
        services.AddScoped(sp =>
        {
            var enrollment = new HubWakeEnrollment(sp.GetRequiredService<VoicePipeline>(), Get<WakeOptions>(sp), Get<ModelsOptions>(sp), sp.GetRequiredService<HubFiles>().StateDirectory,
                Logger(sp, "VoiceHub.Wake"), sp.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            sp.GetRequiredService<HomeAssistantBridge>().WakeEnrollmentRequested += enrollment.Request;
            sp.GetRequiredService<VoicePipeline>().LearnWakeWordAsked += enrollment.Request;
            return enrollment;
        });
        services.AddScoped(sp => new HubWatchdog(sp.GetRequiredService<SystemdNotifier>(), sp.GetRequiredService<VoicePipeline>(), sp.GetRequiredService<HubStatus>()));
        return services;
    }

    /// <summary>
    /// The configured intents and devices; without them the shipped intents, and the demo home only
    /// for a first look without configuration: on the appliance it would sit beside the real,
    /// discovered home and answer to its names.
    /// </summary>
    private static HubFiles HomeFiles(HubOptions hub, RunSettings run)
    {
        var devices = hub.Devices.Length > 0 ? hub.Devices
            : run.EmbeddedDefaults ? Path.Combine(AppContext.BaseDirectory, "demo", "devices.yaml")
            : Path.Combine(AppContext.BaseDirectory, "demo", "no-devices.yaml");
        var state = hub.ResolveStateDirectory();
        Directory.CreateDirectory(state);
        return new HubFiles(hub.Intents.Length > 0 ? hub.Intents : IntentSet.ShippedDirectory, devices, state);
    }

    private static T Get<T>(IServiceProvider services)
        where T : class => services.GetRequiredService<IOptions<T>>().Value;

    private static ILogger Logger(IServiceProvider services, string category) => services.GetRequiredService<ILoggerFactory>().CreateLogger(category);

    [LoggerMessage(Level = LogLevel.Error, Message = "A listener of the hub's status failed")]
    private static partial void LogStatusListenerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Speaker feed: {Problem}")]
    private static partial void LogSpeakerFeed(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing a finished timer failed: {Reason}")]
    private static partial void LogTimerEventFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Building models failed; the previous set stays: {Reason}")]
    private static partial void LogModelsFailed(ILogger logger, string reason);
}
