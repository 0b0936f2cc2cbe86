using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.HomeAssistant;

namespace VoiceHub.Core.Devices;

/// <summary>
/// Entity states as the devices report them on their state topics, read the way Home Assistant
/// reads them (payload_on/state_open..., value templates, JSON-schema lights, cover positions,
/// climate temperatures, availability). Also takes states the hub sets itself (GPIO outputs).
/// Thread-safe: MQTT messages arrive on the bus's dispatch task, readers are the pipeline.
/// </summary>
public sealed partial class EntityStateStore(ILogger logger, TimeProvider? clock = null) : IEntityStates
{
    private readonly ConcurrentDictionary<string, Reported> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _warnedTemplates = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private volatile Dictionary<string, List<(Entity Entity, string Role)>> _byTopic = new(StringComparer.Ordinal);

    /// <summary>State topics of the entities bound now (to subscribe to).</summary>
    public IReadOnlyCollection<string> Topics => _byTopic.Keys;

    /// <summary>Raised when an entity's state changed: id, new state.</summary>
    public event Action<string, EntityState>? StateChanged;

    private static readonly (string Key, string Role)[] s_roles =
    [
        ("state_topic", "state"), ("brightness_state_topic", "brightness"), ("position_topic", "position"),
        ("current_temperature_topic", "current_temperature"), ("temperature_state_topic", "temperature"),
        ("mode_state_topic", "mode"), ("percentage_state_topic", "percentage"), ("availability_topic", "availability"),
        ("state_state_topic", "state"), ("state_volume_topic", "volume"),
    ];

    /// <summary>Follows the entities of a (new) registry; returns the topics to subscribe to.</summary>
    public IReadOnlyCollection<string> Bind(DeviceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var byTopic = new Dictionary<string, List<(Entity, string)>>(StringComparer.Ordinal);
        foreach (var entity in registry.Entities.Where(e => e.Mqtt is not null))
        {
            foreach (var (key, role) in s_roles)
            {
                if (entity.Mqtt!.Get(key) is { Length: > 0 } topic)
                {
                    if (!byTopic.TryGetValue(topic, out var list))
                    {
                        byTopic[topic] = list = [];
                    }

                    list.Add((entity, role));
                }
            }
        }

        _byTopic = byTopic;
        return byTopic.Keys;
    }

    public EntityState? Find(string entityId) => _states.TryGetValue(entityId, out var reported) ? reported.ToState() : null;

    /// <summary>A state the hub knows first-hand (it drove a GPIO line).</summary>
    public void Set(string entityId, string state) => Update(entityId, r => r with { State = state });

    /// <summary>Takes a message; returns whether it was a state topic of a bound entity.</summary>
    public bool Handle(string topic, ReadOnlySpan<byte> payload)
    {
        if (!_byTopic.TryGetValue(topic, out var bound))
        {
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            LogBadPayload(logger, topic, "not valid UTF-8");
            return true;
        }

        foreach (var (entity, role) in bound)
        {
            try
            {
                Apply(entity, role, text);
            }
            catch (TemplateNotSupportedException e)
            {
                if (_warnedTemplates.TryAdd($"{entity.Id}/{role}", true))
                {
                    LogTemplate(logger, entity.Id, e.Message);
                }
            }
        }

        return true;
    }

    private void Apply(Entity entity, string role, string payload)
    {
        var mqtt = entity.Mqtt!;
        switch (role)
        {
            case "availability":
                var available = Render(mqtt.Get("availability_template"), payload);
                Update(entity.Id, r => r with { Available = available == (mqtt.Get("payload_available") ?? "online") ? true : available == (mqtt.Get("payload_not_available") ?? "offline") ? false : r.Available });
                return;
            case "brightness":
                if (Number(Render(mqtt.Get("brightness_value_template"), payload)) is { } raw)
                {
                    Update(entity.Id, r => r.WithAttribute("brightness", Percent(raw, Scale(mqtt))));
                }

                return;
            case "position":
                if (Number(Render(mqtt.Get("position_template"), payload)) is { } position)
                {
                    var closed = Number(mqtt.Get("position_closed")) ?? 0;
                    var open = Number(mqtt.Get("position_open")) ?? 100;
                    var percent = Math.Round(Math.Clamp((position - closed) / (open - closed) * 100, 0, 100));
                    Update(entity.Id, r => (mqtt.Get("state_topic") is null ? r with { State = percent > 0 ? "open" : "closed" } : r).WithAttribute("current_position", percent));
                }

                return;
            case "current_temperature" or "temperature" or "percentage" or "volume":
                var template = mqtt.Get(role switch
                {
                    "current_temperature" => "current_temperature_template",
                    "temperature" => "temperature_state_template",
                    "percentage" => "percentage_value_template",
                    _ => "state_volume_template",
                });
                if (Number(Render(template, payload)) is { } number)
                {
                    Update(entity.Id, r => r.WithAttribute(role, number));
                }

                return;
            case "mode":
                var mode = Render(mqtt.Get("mode_state_template"), payload);
                Update(entity.Id, r => r with { State = mode.ToLowerInvariant() });
                return;
        }

        // role "state"
        var component = mqtt.Get("component") ?? entity.Domain;
        if (component == "light" && mqtt.Get("schema") == "json")
        {
            ApplyJsonLight(entity, mqtt, payload);
            return;
        }

        var value = Render(mqtt.Get("value_template") ?? mqtt.Get("state_value_template"), payload);
        if (value.Length == 0)
        {
            return; // a shared topic (Tasmota's RESULT) carrying news of something else
        }

        var state = component switch
        {
            "light" or "switch" or "fan" or "binary_sensor" =>
                value == (mqtt.Get("state_on") ?? mqtt.Get("payload_on") ?? "ON") ? "on"
                : value == (mqtt.Get("state_off") ?? mqtt.Get("payload_off") ?? "OFF") ? "off"
                : null,
            "cover" =>
                value == (mqtt.Get("state_open") ?? "open") ? "open"
                : value == (mqtt.Get("state_opening") ?? "opening") ? "opening"
                : value == (mqtt.Get("state_closed") ?? "closed") ? "closed"
                : value == (mqtt.Get("state_closing") ?? "closing") ? "closing"
                : value == (mqtt.Get("state_stopped") ?? "stopped") ? "stopped"
                : null,
            "lock" =>
                value == (mqtt.Get("state_locked") ?? "LOCKED") ? "locked"
                : value == (mqtt.Get("state_unlocked") ?? "UNLOCKED") ? "unlocked"
                : value is "LOCKING" ? "locking" : value is "UNLOCKING" ? "unlocking" : value is "JAMMED" ? "jammed" : null,
            "climate" => value.ToLowerInvariant(),
            _ => value,
        };
        if (state is null)
        {
            LogBadPayload(logger, entity.Id, $"state '{Truncate(value)}' is none of the payloads its config names");
            return;
        }

        Update(entity.Id, r => r with { State = state });
    }

    private void ApplyJsonLight(Entity entity, Devices.MqttBinding mqtt, string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("not an object");
            }

            string? state = root.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString() == "ON" ? "on" : s.GetString() == "OFF" ? "off" : null
                : null;
            double? brightness = root.TryGetProperty("brightness", out var b) && b.ValueKind == JsonValueKind.Number ? Percent(b.GetDouble(), Scale(mqtt)) : null;
            Update(entity.Id, r =>
            {
                var next = state is null ? r : r with { State = state };
                return brightness is { } value ? next.WithAttribute("brightness", value) : next;
            });
        }
        catch (JsonException)
        {
            LogBadPayload(logger, entity.Id, $"JSON light state '{Truncate(payload)}' is not a JSON object");
        }
    }

    private void Update(string entityId, Func<Reported, Reported> change)
    {
        var updated = _states.AddOrUpdate(entityId, _ => change(new Reported(null, null, [], _clock.GetUtcNow())) with { Updated = _clock.GetUtcNow() }, (_, old) => change(old) with { Updated = _clock.GetUtcNow() });
        StateChanged?.Invoke(entityId, updated.ToState());
    }

    private static string Render(string? template, string payload) => template is null ? payload : HaTemplate.Render(template, payload);

    private static double Scale(Devices.MqttBinding mqtt) => Number(mqtt.Get("brightness_scale")) is { } scale and > 0 ? scale : 255;

    private static double Percent(double raw, double scale) => Math.Round(Math.Clamp(raw / scale * 100, 0, 100));

    private static double? Number(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "...";

    private sealed record Reported(string? State, bool? Available, Dictionary<string, object?> Attributes, DateTimeOffset Updated)
    {
        public Reported WithAttribute(string key, object? value) => this with { Attributes = new Dictionary<string, object?>(Attributes, StringComparer.Ordinal) { [key] = value } };

        public EntityState ToState() => new(Available == false ? "unavailable" : State, Attributes, Updated);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored a state message for {Entity}: {Reason}")]
    private static partial void LogBadPayload(ILogger logger, string entity, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "State of {Entity} cannot be read: {Reason}")]
    private static partial void LogTemplate(ILogger logger, string entity, string reason);
}
