using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Mqtt;
using VoiceHub.Native.Mqtt;

namespace VoiceHub.Core.HomeAssistant;

/// <summary>
/// The hub as a Home Assistant device over MQTT discovery: sensors for the pipeline state, the last
/// transcript and intent, per-stage latency, CPU temperature and model tier; a "throttled" binary
/// sensor; a "mute microphone" switch; a "learn wake word" button; an <c>event</c> entity firing for every recognized intent;
/// and the GPIO outputs of entities as switches and lights Home Assistant can control. Every
/// intent is also published as JSON on <c>voicehub/&lt;hub_id&gt;/intent</c> for automations.
/// Configs are retained and sent again when Home Assistant announces it restarted.
/// </summary>
public sealed partial class HomeAssistantBridge : IDisposable
{
    private static readonly string[] s_stages = ["wake", "stt", "intent", "act", "total"];
    private readonly MqttBus _bus;
    private readonly HubStatus _status;
    private readonly GpioHub? _gpio;
    private readonly EntityStateStore? _states;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly string _hubId;
    private readonly string _version;
    private IReadOnlyList<Entity> _gpioEntities = [];
    private IReadOnlyList<string> _eventTypes = [];
    private bool _roomSensor;
    private readonly System.Threading.Channels.Channel<(string Topic, string Payload, bool Retain)> _outgoing =
        System.Threading.Channels.Channel.CreateUnbounded<(string, string, bool)>(new() { SingleReader = true });
    private readonly Task _sending;

    public HomeAssistantBridge(MqttBus bus, HubStatus status, string discoveryPrefix, string hubId, ILogger logger, GpioHub? gpio = null, EntityStateStore? states = null, string? version = null)
    {
        _bus = bus;
        _status = status;
        _gpio = gpio;
        _states = states;
        _logger = logger;
        _prefix = discoveryPrefix;
        _hubId = hubId;
        _version = version ?? typeof(HomeAssistantBridge).Assembly.GetName().Version?.ToString(3) ?? "0";
        _sending = Task.Run(SendAsync);
    }

    /// <summary>Sends what is queued, then stops (the bus, disposed after the bridge, still takes it).</summary>
    public void Dispose()
    {
        _status.Changed -= Publish;
        _bus.MessageReceived -= OnMessage;
        if (_gpio is not null)
        {
            _gpio.OutputChanged -= PublishOutput;
        }

        _outgoing.Writer.TryComplete();
        _ = _sending.Wait(TimeSpan.FromSeconds(2));
    }

    /// <summary>
    /// Queues a publication: callers are the audio loop (the act stage turning a relay, an intent
    /// event), the status's delivery task and timer threads, and none of them waits for the bus.
    /// </summary>
    private void Send(string topic, string payload, bool retain) => _outgoing.Writer.TryWrite((topic, payload, retain));

    private async Task SendAsync()
    {
        await foreach (var (topic, payload, retain) in _outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                _bus.PublishState(topic, payload, retain);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogSendFailed(_logger, topic, e.Message); // the next publication still goes
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {Topic} failed: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, string topic, string reason);

    public string Base => _bus.BaseTopic;

    public string StateTopic => $"{Base}/state";

    public string IntentTopic => $"{Base}/intent";

    public string EventTopic => $"{Base}/event";

    public string MuteCommandTopic => $"{Base}/mute/set";

    public string MuteStateTopic => $"{Base}/mute";

    /// <summary>Pressed (payload <c>PRESS</c>): the hub learns its wake phrase from whoever says it next.</summary>
    public string EnrollWakeCommandTopic => $"{Base}/wake/enroll";

    /// <summary>Home Assistant's "Learn wake word" button was pressed.</summary>
    public event Action? WakeEnrollmentRequested;

    public string ThrottledTopic => $"{Base}/throttled";

    public string GpioCommandTopic(string entityId) => $"{Base}/gpio/{ObjectId(entityId)}/set";

    public string GpioStateTopic(string entityId) => $"{Base}/gpio/{ObjectId(entityId)}/state";

    /// <summary>Announces the hub, subscribes to its command topics, and follows the status.</summary>
    /// <param name="roomSensor">Whether a room sensor reports temperature and humidity (announced as sensors).</param>
    public void Start(IEnumerable<Entity> gpioEntities, IEnumerable<string> intentNames, bool roomSensor = false)
    {
        _roomSensor = roomSensor;
        _gpioEntities = [.. gpioEntities.Where(e => e.Gpio is not null && _gpio?.OutputState(e.Id) is not null)];
        _eventTypes = [.. intentNames.Order(StringComparer.Ordinal)];
        _bus.MessageReceived += OnMessage;
        _bus.Subscribe(MuteCommandTopic);
        _bus.Subscribe(EnrollWakeCommandTopic);
        _bus.Subscribe($"{Base}/gpio/+/set");
        _bus.Subscribe($"{_prefix}/status");
        _status.Changed += Publish;
        if (_gpio is not null)
        {
            _gpio.OutputChanged += PublishOutput;
        }

        Announce();
        Publish(_status.Snapshot);
        foreach (var entity in _gpioEntities)
        {
            Send(GpioStateTopic(entity.Id), _gpio!.OutputState(entity.Id) == true ? "ON" : "OFF", retain: true);
        }
    }

    /// <summary>Every discovery config of the hub (topic, payload), as published.</summary>
    public IReadOnlyList<(string Topic, string Payload)> DiscoveryConfigs()
    {
        var device = new JsonObject
        {
            ["identifiers"] = new JsonArray($"voicehub_{_hubId}"),
            ["name"] = $"VoiceHub {_hubId}",
            ["manufacturer"] = "VoiceHub",
            ["model"] = "Offline voice assistant",
            ["sw_version"] = _version,
        };
        var configs = new List<(string, string)>();
        void Add(string component, string objectId, JsonObject config)
        {
            config["unique_id"] = $"voicehub_{_hubId}_{objectId}";
            config["object_id"] = $"voicehub_{_hubId}_{objectId}";
            config["availability_topic"] = _bus.AvailabilityTopic;
            config["device"] = device.DeepClone();
            configs.Add(($"{_prefix}/{component}/voicehub_{_hubId}/{objectId}/config", config.ToJsonString()));
        }

        Add("sensor", "pipeline_state", new JsonObject { ["name"] = "Pipeline state", ["state_topic"] = StateTopic, ["value_template"] = "{{ value_json.state }}", ["icon"] = "mdi:microphone-message" });
        Add("sensor", "last_transcript", new JsonObject { ["name"] = "Last transcript", ["state_topic"] = StateTopic, ["value_template"] = "{{ value_json.transcript }}", ["icon"] = "mdi:text-recognition" });
        Add("sensor", "last_intent", new JsonObject { ["name"] = "Last intent", ["state_topic"] = StateTopic, ["value_template"] = "{{ value_json.intent }}", ["icon"] = "mdi:lightbulb-question" });
        foreach (var stage in s_stages)
        {
            Add("sensor", $"latency_{stage}", new JsonObject
            {
                ["name"] = $"Latency {stage}", ["state_topic"] = StateTopic, ["value_template"] = $"{{{{ value_json.latency_ms.{stage} }}}}",
                ["unit_of_measurement"] = "ms", ["device_class"] = "duration", ["state_class"] = "measurement", ["entity_category"] = "diagnostic",
            });
        }

        Add("sensor", "cpu_temperature", new JsonObject
        {
            ["name"] = "CPU temperature", ["state_topic"] = StateTopic, ["value_template"] = "{{ value_json.cpu_temperature }}",
            ["unit_of_measurement"] = "°C", ["device_class"] = "temperature", ["state_class"] = "measurement", ["entity_category"] = "diagnostic",
        });
        if (_roomSensor)
        {
            Add("sensor", "room_temperature", new JsonObject
            {
                ["name"] = "Temperature", ["state_topic"] = StateTopic, ["value_template"] = "{{ value_json.room_temperature }}",
                ["unit_of_measurement"] = "°C", ["device_class"] = "temperature", ["state_class"] = "measurement",
            });
            Add("sensor", "room_humidity", new JsonObject
            {
                ["name"] = "Humidity", ["state_topic"] = StateTopic, ["value_template"] = "{{ value_json.room_humidity }}",
                ["unit_of_measurement"] = "%", ["device_class"] = "humidity", ["state_class"] = "measurement",
            });
        }

        Add("sensor", "model_tier", new JsonObject { ["name"] = "Model tier", ["state_topic"] = StateTopic, ["value_template"] = "{{ value_json.model_tier }}", ["entity_category"] = "diagnostic" });
        Add("binary_sensor", "throttled", new JsonObject { ["name"] = "Throttled", ["state_topic"] = ThrottledTopic, ["device_class"] = "problem", ["entity_category"] = "diagnostic" });
        Add("switch", "mute", new JsonObject { ["name"] = "Mute microphone", ["command_topic"] = MuteCommandTopic, ["state_topic"] = MuteStateTopic, ["icon"] = "mdi:microphone-off" });
        Add("button", "learn_wake_word", new JsonObject
        {
            ["name"] = "Learn wake word", ["command_topic"] = EnrollWakeCommandTopic, ["payload_press"] = "PRESS", ["icon"] = "mdi:account-voice", ["entity_category"] = "config",
        });
        Add("event", "intent", new JsonObject { ["name"] = "Intent", ["state_topic"] = EventTopic, ["event_types"] = new JsonArray([.. _eventTypes.Select(t => (JsonNode)t)]) });
        foreach (var entity in _gpioEntities)
        {
            Add(entity.Domain == "light" ? "light" : "switch", $"gpio_{ObjectId(entity.Id)}", new JsonObject
            {
                ["name"] = entity.Name, ["command_topic"] = GpioCommandTopic(entity.Id), ["state_topic"] = GpioStateTopic(entity.Id),
            });
        }

        return configs;
    }

    /// <summary>Tells automations what was understood: the intent JSON, and the event entity.</summary>
    public void PublishIntent(IntentResult result, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(result);
        var json = new JsonObject
        {
            ["text"] = result.Text,
            ["intent"] = result.Intent,
            ["slots"] = JsonSerializer.SerializeToNode(result.Slots),
            ["targets"] = new JsonArray([.. result.Targets.Select(t => (JsonNode)t)]),
            ["source"] = result.Source,
            ["status"] = JsonSerializer.SerializeToNode(result.Status),
            ["response"] = result.Response,
            ["hub_id"] = _hubId,
            ["time"] = at.ToString("O", CultureInfo.InvariantCulture),
        };
        Send(IntentTopic, json.ToJsonString(), retain: false);
        if (result.Intent is not null && result.Status == IntentStatus.Ok)
        {
            var fired = new JsonObject { ["event_type"] = result.Intent, ["text"] = result.Text, ["slots"] = JsonSerializer.SerializeToNode(result.Slots), ["targets"] = new JsonArray([.. result.Targets.Select(t => (JsonNode)t)]) };
            Send(EventTopic, fired.ToJsonString(), retain: false);
        }
    }

    private void Announce()
    {
        foreach (var (topic, payload) in DiscoveryConfigs())
        {
            Send(topic, payload, retain: true);
        }
    }

    private void PublishOutput(string entityId, bool on) => Send(GpioStateTopic(entityId), on ? "ON" : "OFF", retain: true);

    private void Publish(HubSnapshot snapshot)
    {
        var latency = new JsonObject();
        foreach (var stage in s_stages)
        {
            latency[stage] = snapshot.StageMilliseconds.TryGetValue(stage, out var ms) ? Math.Round(ms, 1) : null;
        }

        var json = new JsonObject
        {
            ["state"] = snapshot.State.ToString().ToLowerInvariant() switch { "followup" => "follow_up", var s => s },
            ["muted"] = snapshot.Muted,
            ["transcript"] = snapshot.LastTranscript,
            ["intent"] = snapshot.LastIntent,
            ["latency_ms"] = latency,
            ["cpu_temperature"] = snapshot.CpuTemperatureCelsius is { } t ? Math.Round(t, 1) : null,
            ["model_tier"] = snapshot.ModelTier,
            ["throttled"] = snapshot.Throttled,
            ["room_temperature"] = snapshot.Room?.TemperatureCelsius,
            ["room_humidity"] = snapshot.Room?.HumidityPercent,
        };
        Send(StateTopic, json.ToJsonString(), retain: true);
        Send(MuteStateTopic, snapshot.Muted ? "ON" : "OFF", retain: true);
        Send(ThrottledTopic, snapshot.Throttled ? "ON" : "OFF", retain: true);
    }

    private void OnMessage(MqttMessage message)
    {
        var payload = Encoding.UTF8.GetString(message.Payload).Trim();
        if (message.Topic == $"{_prefix}/status")
        {
            if (payload == "online")
            {
                Announce(); // Home Assistant restarted: it reads the configs again
            }

            return;
        }

        if (message.Topic == MuteCommandTopic)
        {
            if (payload is "ON" or "OFF")
            {
                _status.SetMuted(payload == "ON");
            }
            else
            {
                LogBadCommand(_logger, message.Topic, Shorten(payload));
            }

            return;
        }

        if (message.Topic == EnrollWakeCommandTopic)
        {
            if (payload == "PRESS")
            {
                WakeEnrollmentRequested?.Invoke();
            }
            else
            {
                LogBadPress(_logger, message.Topic, Shorten(payload));
            }

            return;
        }

        var entity = _gpioEntities.FirstOrDefault(e => GpioCommandTopic(e.Id) == message.Topic);
        if (entity is null)
        {
            return;
        }

        if (payload is "ON" or "OFF")
        {
            _gpio!.SetOutput(entity.Id, payload == "ON");
            _states?.Set(entity.Id, payload == "ON" ? "on" : "off");
        }
        else
        {
            LogBadCommand(_logger, message.Topic, Shorten(payload));
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static string ObjectId(string entityId) => entityId.Replace('.', '_');

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a command on {Topic}: payload '{Payload}' is neither ON nor OFF")]
    private static partial void LogBadCommand(ILogger logger, string topic, string payload);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a command on {Topic}: payload '{Payload}' is not PRESS")]
    private static partial void LogBadPress(ILogger logger, string topic, string payload);
}
