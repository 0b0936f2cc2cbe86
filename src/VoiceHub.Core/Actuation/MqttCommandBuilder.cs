using System.Globalization;
using System.Text.Json;
using VoiceHub.Core.Devices;
using VoiceHub.Core.HomeAssistant;
using VoiceHub.Core.Intents;

namespace VoiceHub.Core.Actuation;

/// <summary>One MQTT publication a command becomes.</summary>
public sealed record DeviceCommand(string Topic, string Payload, bool Retain);

/// <summary>An intent the entity cannot carry out, in words the hub can say.</summary>
public sealed class ActuationException(string entityId, string reason) : Exception($"{entityId}: {reason}")
{
    public string EntityId { get; } = entityId;

    public string Reason { get; } = reason;
}

/// <summary>
/// Turns an intent on one MQTT entity into the publications Home Assistant itself would make for
/// the same service call, from the entity's discovery config: payload_on/off, the JSON light
/// schema, brightness scales, cover positions between position_closed and position_open,
/// climate temperatures and modes, lock payloads, scenes, and the command topics of MQTT media
/// players. Command templates go through <see cref="HaTemplate"/> with the value HA would pass.
/// </summary>
public static class MqttCommandBuilder
{
    private static readonly Dictionary<string, (int R, int G, int B)> s_colors = new(StringComparer.OrdinalIgnoreCase)
    {
        ["red"] = (255, 0, 0), ["orange"] = (255, 165, 0), ["yellow"] = (255, 255, 0), ["green"] = (0, 128, 0),
        ["blue"] = (0, 0, 255), ["purple"] = (128, 0, 128), ["pink"] = (255, 192, 203), ["white"] = (255, 255, 255),
        ["cyan"] = (0, 255, 255), ["magenta"] = (255, 0, 255), ["gold"] = (255, 215, 0), ["lavender"] = (230, 230, 250),
        ["teal"] = (0, 128, 128), ["brown"] = (165, 42, 42),
    };

    // Color temperatures in mireds: "warm white" 2700 K, "cool white" 6500 K (as Home Assistant), daylight 5500 K.
    private static readonly Dictionary<string, int> s_whites = new(StringComparer.OrdinalIgnoreCase) { ["warm white"] = 370, ["cool white"] = 153, ["daylight"] = 182 };

    public static IReadOnlyList<DeviceCommand> Build(IntentResult result, Entity entity, EntityState? state)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(entity);
        var mqtt = entity.Mqtt ?? throw new ActuationException(entity.Id, "has no MQTT binding");
        var component = mqtt.Get("component") ?? entity.Domain;
        var intent = result.Intent ?? throw new ActuationException(entity.Id, "no intent");
        if (intent == IntentNames.Toggle)
        {
            intent = (state?.State ?? entity.State) is "on" or "open" or "unlocked" or "playing" ? IntentNames.TurnOff : IntentNames.TurnOn;
        }

        var retain = string.Equals(mqtt.Get("retain"), "true", StringComparison.OrdinalIgnoreCase); // "True" from discovery, "true" from a devices file
        return component switch
        {
            "light" when mqtt.Get("schema") == "json" => JsonLight(intent, result, entity, mqtt, retain),
            "light" => DefaultLight(intent, result, entity, mqtt, retain),
            "switch" or "fan" => OnOff(intent, entity, mqtt, retain),
            "scene" when intent == IntentNames.TurnOn => [new(Required(entity, mqtt, "command_topic"), mqtt.Get("payload_on") ?? "ON", retain)],
            "button" when intent == IntentNames.TurnOn => [new(Required(entity, mqtt, "command_topic"), mqtt.Get("payload_press") ?? "PRESS", retain)],
            "lock" => Lock(intent, entity, mqtt, retain),
            "cover" => Cover(intent, result, entity, mqtt, retain),
            "climate" => Climate(intent, result, entity, mqtt, retain),
            "media_player" => Media(intent, result, entity, mqtt, retain),
            _ => throw new ActuationException(entity.Id, $"a {component} cannot do {intent}"),
        };
    }

    private static List<DeviceCommand> OnOff(string intent, Entity entity, MqttBinding mqtt, bool retain) => intent switch
    {
        IntentNames.TurnOn => [Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_on") ?? "ON", retain)],
        IntentNames.TurnOff => [Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_off") ?? "OFF", retain)],
        _ => throw new ActuationException(entity.Id, $"a {entity.Domain} cannot do {intent}"),
    };

    private static List<DeviceCommand> DefaultLight(string intent, IntentResult result, Entity entity, MqttBinding mqtt, bool retain)
    {
        if (intent != IntentNames.LightSet)
        {
            return OnOff(intent, entity, mqtt, retain);
        }

        var commands = new List<DeviceCommand>();
        if (Slot(result, "brightness") is { } percent)
        {
            if (mqtt.Get("brightness_command_topic") is null)
            {
                throw new ActuationException(entity.Id, "cannot be dimmed");
            }

            var value = Math.Round(percent / 100 * Scale(mqtt));
            if (value == 0)
            {
                return [Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_off") ?? "OFF", retain)];
            }

            commands.Add(Templated(entity, mqtt, "brightness_command_topic", "brightness_command_template", Format(value), retain));
        }

        if (result.Slots.GetValueOrDefault("color")?.ToString() is { } color)
        {
            if (s_whites.TryGetValue(color, out var mireds) && mqtt.Get("color_temp_command_topic") is not null)
            {
                commands.Add(Templated(entity, mqtt, "color_temp_command_topic", "color_temp_command_template", Format(mireds), retain));
            }
            else if (Rgb(color) is var (r, g, b) && mqtt.Get("rgb_command_topic") is not null)
            {
                commands.Add(Templated(entity, mqtt, "rgb_command_topic", "rgb_command_template", $"{r},{g},{b}", retain, new() { ["red"] = r, ["green"] = g, ["blue"] = b }));
            }
            else
            {
                throw new ActuationException(entity.Id, $"cannot show {color}");
            }
        }

        // on_command_type: "last" (default) sends ON after the values, "first" before, "brightness" never.
        var on = Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_on") ?? "ON", retain);
        switch (mqtt.Get("on_command_type") ?? "last")
        {
            case "first":
                commands.Insert(0, on);
                break;
            case "brightness" when Slot(result, "brightness") is not null:
                break;
            default:
                commands.Add(on);
                break;
        }

        return commands;
    }

    private static List<DeviceCommand> JsonLight(string intent, IntentResult result, Entity entity, MqttBinding mqtt, bool retain)
    {
        var topic = Required(entity, mqtt, "command_topic");
        var body = new Dictionary<string, object>(StringComparer.Ordinal);
        switch (intent)
        {
            case IntentNames.TurnOn:
                body["state"] = "ON";
                break;
            case IntentNames.TurnOff:
                body["state"] = "OFF";
                break;
            case IntentNames.LightSet:
                body["state"] = "ON";
                if (Slot(result, "brightness") is { } percent)
                {
                    var modes = (entity.Attributes.GetValueOrDefault("supported_color_modes") as IEnumerable<object?>)?.Select(m => m?.ToString()).ToList() ?? [];
                    if (modes.Count > 0 && modes.All(m => m == "onoff"))
                    {
                        throw new ActuationException(entity.Id, "cannot be dimmed");
                    }

                    var value = Math.Round(percent / 100 * Scale(mqtt));
                    if (value == 0)
                    {
                        body["state"] = "OFF";
                    }
                    else
                    {
                        body["brightness"] = (int)value;
                    }
                }

                if (result.Slots.GetValueOrDefault("color")?.ToString() is { } color)
                {
                    if (s_whites.TryGetValue(color, out var mireds))
                    {
                        body["color_temp"] = mireds;
                    }
                    else if (Rgb(color) is var (r, g, b))
                    {
                        body["color"] = new Dictionary<string, int> { ["r"] = r, ["g"] = g, ["b"] = b };
                    }
                    else
                    {
                        throw new ActuationException(entity.Id, $"cannot show {color}");
                    }
                }

                break;
            default:
                throw new ActuationException(entity.Id, $"a light cannot do {intent}");
        }

        return [new(topic, JsonSerializer.Serialize(body), retain)];
    }

    private static List<DeviceCommand> Lock(string intent, Entity entity, MqttBinding mqtt, bool retain) => intent switch
    {
        // As Home Assistant's intents: turning a lock on locks it.
        IntentNames.TurnOn or IntentNames.Lock => [Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_lock") ?? "LOCK", retain)],
        IntentNames.TurnOff or IntentNames.Unlock => [Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_unlock") ?? "UNLOCK", retain)],
        _ => throw new ActuationException(entity.Id, $"a lock cannot do {intent}"),
    };

    private static List<DeviceCommand> Cover(string intent, IntentResult result, Entity entity, MqttBinding mqtt, bool retain)
    {
        var closed = Number(mqtt.Get("position_closed")) ?? 0;
        var open = Number(mqtt.Get("position_open")) ?? 100;
        double? position = intent switch
        {
            IntentNames.SetPosition => Slot(result, "position") ?? throw new ActuationException(entity.Id, "no position given"),
            IntentNames.OpenCover or IntentNames.TurnOn when mqtt.Get("command_topic") is null => 100,
            IntentNames.CloseCover or IntentNames.TurnOff when mqtt.Get("command_topic") is null => 0,
            _ => null,
        };
        if (position is { } percent)
        {
            var topic = mqtt.Get("set_position_topic") ?? throw new ActuationException(entity.Id, "cannot be set to a position");
            var value = Math.Round(closed + ((open - closed) * percent / 100));
            var payload = mqtt.Get("set_position_template") is { } template
                ? HaTemplate.Render(template, Format(value), new Dictionary<string, object> { ["position"] = (long)value })
                : Format(value);
            return [new(topic, payload, retain)];
        }

        return intent switch
        {
            IntentNames.OpenCover or IntentNames.TurnOn => [Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_open") ?? "OPEN", retain)],
            IntentNames.CloseCover or IntentNames.TurnOff => [Templated(entity, mqtt, "command_topic", "command_template", mqtt.Get("payload_close") ?? "CLOSE", retain)],
            _ => throw new ActuationException(entity.Id, $"a cover cannot do {intent}"),
        };
    }

    private static List<DeviceCommand> Climate(string intent, IntentResult result, Entity entity, MqttBinding mqtt, bool retain)
    {
        switch (intent)
        {
            case IntentNames.ClimateSetTemperature:
                var temperature = Slot(result, "temperature") ?? throw new ActuationException(entity.Id, "no temperature given");
                return [Templated(entity, mqtt, "temperature_command_topic", "temperature_command_template", Format(temperature), retain)];
            case IntentNames.TurnOn or IntentNames.TurnOff:
                if (mqtt.Get("power_command_topic") is not null)
                {
                    return [Templated(entity, mqtt, "power_command_topic", "power_command_template", intent == IntentNames.TurnOn ? mqtt.Get("payload_on") ?? "ON" : mqtt.Get("payload_off") ?? "OFF", retain)];
                }

                // Without a power topic Home Assistant turns a thermostat on in its first mode that is not off.
                var modes = (entity.Attributes.GetValueOrDefault("modes") as IEnumerable<object?>)?.Select(m => m?.ToString() ?? string.Empty).ToList() ?? ["auto", "off", "cool", "heat", "dry", "fan_only"];
                var mode = intent == IntentNames.TurnOff ? "off" : modes.FirstOrDefault(m => m is not "off") ?? "heat";
                return [Templated(entity, mqtt, "mode_command_topic", "mode_command_template", mode, retain)];
            default:
                throw new ActuationException(entity.Id, $"a thermostat cannot do {intent}");
        }
    }

    /// <summary>The discovery format of the community MQTT media player (command_*_topic / command_*_payload).</summary>
    private static List<DeviceCommand> Media(string intent, IntentResult result, Entity entity, MqttBinding mqtt, bool retain)
    {
        var (action, payload) = intent switch
        {
            IntentNames.MediaPause => ("pause", "Pause"),
            IntentNames.MediaUnpause => ("play", "Play"),
            IntentNames.MediaNext => ("next", "Next"),
            IntentNames.MediaPrevious => ("previous", "Previous"),
            IntentNames.SetVolume => ("volume", Format(Math.Round((Slot(result, "volume_level") ?? throw new ActuationException(entity.Id, "no volume given")) / 100, 2))),
            _ => throw new ActuationException(entity.Id, $"a media player cannot do {intent}"),
        };
        var topic = mqtt.Get($"command_{action}_topic") ?? throw new ActuationException(entity.Id, $"has no command_{action}_topic");
        return [new(topic, action == "volume" ? payload : mqtt.Get($"command_{action}_payload") ?? payload, retain)];
    }

    private static DeviceCommand Templated(Entity entity, MqttBinding mqtt, string topicKey, string templateKey, string value, bool retain, Dictionary<string, object>? variables = null)
    {
        var topic = Required(entity, mqtt, topicKey);
        var payload = mqtt.Get(templateKey) is { } template ? HaTemplate.Render(template, value, variables) : value;
        return new DeviceCommand(topic, payload, retain);
    }

    private static string Required(Entity entity, MqttBinding mqtt, string key) =>
        mqtt.Get(key) ?? throw new ActuationException(entity.Id, $"has no {key}");

    private static (int R, int G, int B)? Rgb(string color) => s_colors.TryGetValue(color, out var rgb) ? rgb : null;

    private static double Scale(MqttBinding mqtt) => Number(mqtt.Get("brightness_scale")) is { } scale and > 0 ? scale : 255;

    private static double? Slot(IntentResult result, string name) =>
        result.Slots.TryGetValue(name, out var value) ? Number(Convert.ToString(value, CultureInfo.InvariantCulture)) : null;

    private static double? Number(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;

    private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
