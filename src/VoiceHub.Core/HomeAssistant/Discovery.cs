using System.Globalization;
using System.Text;
using System.Text.Json;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;

namespace VoiceHub.Core.HomeAssistant;

/// <summary>A discovery message the hub will not use, and why (logged once, then skipped).</summary>
public sealed class DiscoveryException(string topic, string reason) : Exception($"{topic}: {reason}")
{
    public string Topic { get; } = topic;

    public string Reason { get; } = reason;
}

/// <summary>Where a discovery config was published: <c>&lt;prefix&gt;/&lt;component&gt;/[&lt;node_id&gt;/]&lt;object_id&gt;/config</c>.</summary>
public sealed record DiscoveryTopic(string Component, string? NodeId, string ObjectId)
{
    public static DiscoveryTopic? TryParse(string prefix, string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (!topic.StartsWith(prefix + "/", StringComparison.Ordinal) || !topic.EndsWith("/config", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = topic[(prefix.Length + 1)..^"/config".Length].Split('/');
        return parts.Length switch
        {
            2 => new DiscoveryTopic(parts[0], null, parts[1]),
            3 => new DiscoveryTopic(parts[0], parts[1], parts[2]),
            _ => null,
        };
    }
}

/// <summary>An entity learned from one discovery config.</summary>
public sealed record DiscoveredEntity(string DiscoveryTopic, Entity Entity, string? SuggestedArea, string? DeviceName);

/// <summary>
/// Reads Home Assistant MQTT discovery configs the way Home Assistant does: abbreviations
/// (<c>cmd_t</c>, <c>stat_t</c>, <c>dev</c>/<c>ids</c>...), the <c>~</c> base topic, device blocks,
/// entity naming (the device's name, plus the entity's own name unless it is null), and device
/// discovery (<c>homeassistant/device/.../config</c> with <c>cmps</c>). The result is an
/// <see cref="Entity"/> whose MQTT binding holds the expanded config, which the command builder
/// and the state store read.
/// </summary>
public static class DiscoveryParser
{
    /// <summary>Components whose configs become entities the hub can control or ask about.</summary>
    public static readonly IReadOnlySet<string> Components = new HashSet<string>(StringComparer.Ordinal)
    {
        "light", "switch", "fan", "cover", "climate", "lock", "scene", "button", "media_player", "sensor", "binary_sensor",
    };

    /// <summary>Home Assistant components the hub neither controls nor asks about: skipped without a warning.</summary>
    public static readonly IReadOnlySet<string> Ignored = new HashSet<string>(StringComparer.Ordinal)
    {
        "alarm_control_panel", "camera", "device_automation", "device_tracker", "event", "humidifier", "image", "lawn_mower",
        "notify", "number", "select", "siren", "tag", "text", "update", "vacuum", "valve", "water_heater",
    };

    // Home Assistant's discovery abbreviations for the options the hub reads (homeassistant/components/mqtt/abbreviations.py).
    private static readonly Dictionary<string, string> s_abbreviations = Table(
        "avty=availability avty_mode=availability_mode avty_t=availability_topic avty_tpl=availability_template " +
        "bri_cmd_t=brightness_command_topic bri_cmd_tpl=brightness_command_template bri_scl=brightness_scale " +
        "bri_stat_t=brightness_state_topic bri_val_tpl=brightness_value_template clrm=color_mode " +
        "cmd_off_tpl=command_off_template cmd_on_tpl=command_on_template cmd_t=command_topic cmd_tpl=command_template " +
        "curr_temp_t=current_temperature_topic curr_temp_tpl=current_temperature_template dev=device dev_cla=device_class " +
        "e=encoding en=enabled_by_default ent_cat=entity_category hs_cmd_t=hs_command_topic ic=icon " +
        "json_attr_t=json_attributes_topic json_attr_tpl=json_attributes_template max_temp=max_temp min_temp=min_temp " +
        "mode_cmd_t=mode_command_topic mode_cmd_tpl=mode_command_template mode_stat_t=mode_state_topic " +
        "mode_stat_tpl=mode_state_template modes=modes name=name obj_id=object_id on_cmd_type=on_command_type " +
        "opt=optimistic pct_cmd_t=percentage_command_topic pct_cmd_tpl=percentage_command_template " +
        "pct_stat_t=percentage_state_topic pct_val_tpl=percentage_value_template pl=payload " +
        "pl_avail=payload_available pl_cls=payload_close pl_lock=payload_lock pl_not_avail=payload_not_available " +
        "pl_off=payload_off pl_on=payload_on pl_open=payload_open pl_prs=payload_press pl_stop=payload_stop " +
        "pl_unlk=payload_unlock pos_clsd=position_closed pos_open=position_open pos_t=position_topic pos_tpl=position_template " +
        "pow_cmd_t=power_command_topic ret=retain rgb_cmd_t=rgb_command_topic rgb_cmd_tpl=rgb_command_template " +
        "set_pos_t=set_position_topic set_pos_tpl=set_position_template spd_rng_max=speed_range_max spd_rng_min=speed_range_min " +
        "stat_cla=state_class stat_clsd=state_closed stat_closing=state_closing stat_locked=state_locked stat_off=state_off " +
        "stat_on=state_on stat_open=state_open stat_opening=state_opening stat_stopped=state_stopped " +
        "stat_unlocked=state_unlocked stat_t=state_topic stat_tpl=state_template stat_val_tpl=state_value_template " +
        "sup_clrm=supported_color_modes sup_vol=support_volume_set t=topic temp_cmd_t=temperature_command_topic " +
        "temp_cmd_tpl=temperature_command_template temp_stat_t=temperature_state_topic temp_stat_tpl=temperature_state_template " +
        "temp_unit=temperature_unit uniq_id=unique_id unit_of_meas=unit_of_measurement val_tpl=value_template p=platform " +
        "o=origin cmps=components");

    private static readonly Dictionary<string, string> s_deviceAbbreviations = Table(
        "cns=connections cu=configuration_url ids=identifiers name=name mf=manufacturer mdl=model mdl_id=model_id " +
        "hw=hw_version sw=sw_version sa=suggested_area sn=serial_number");

    /// <summary>
    /// Parses one discovery message into entities (one, or several for device discovery); an empty
    /// payload (removal) gives none. Throws <see cref="DiscoveryException"/> for anything unusable.
    /// </summary>
    public static IReadOnlyList<DiscoveredEntity> Parse(string topic, DiscoveryTopic where, ReadOnlySpan<byte> payload, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(where);
        if (payload.Length > maxBytes)
        {
            throw new DiscoveryException(topic, $"payload of {payload.Length} bytes is over the {maxBytes}-byte limit");
        }

        if (where.Component.Contains('+', StringComparison.Ordinal) || where.Component.Contains('#', StringComparison.Ordinal)
            || where.ObjectId.Contains('+', StringComparison.Ordinal) || where.ObjectId.Contains('#', StringComparison.Ordinal))
        {
            throw new DiscoveryException(topic, "the topic has '+' or '#' in a name");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            throw new DiscoveryException(topic, "payload is not valid UTF-8");
        }

        Dictionary<string, JsonElement> config;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DiscoveryException(topic, $"payload is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object");
            }

            config = Expand(document.RootElement.Clone(), s_abbreviations);
        }
        catch (JsonException e)
        {
            throw new DiscoveryException(topic, $"payload is not JSON ({e.Message.Split('.')[0]})");
        }

        if (where.Component == "device")
        {
            return ParseDevice(topic, where, config);
        }

        if (Ignored.Contains(where.Component))
        {
            return [];
        }

        if (!Components.Contains(where.Component))
        {
            throw new DiscoveryException(topic, $"unknown component '{where.Component}' (the hub understands {string.Join(", ", Components)})");
        }

        return [Build(topic, where.Component, where.ObjectId, config)];
    }

    /// <summary>Device discovery: shared options and the device block at the top, one config per component under <c>cmps</c>.</summary>
    private static List<DiscoveredEntity> ParseDevice(string topic, DiscoveryTopic where, Dictionary<string, JsonElement> config)
    {
        if (!config.TryGetValue("components", out var components) || components.ValueKind != JsonValueKind.Object)
        {
            throw new DiscoveryException(topic, "device discovery without a 'cmps' (components) object");
        }

        var shared = config.Where(kv => kv.Key is not "components").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var entities = new List<DiscoveredEntity>();
        foreach (var component in components.EnumerateObject())
        {
            if (component.Value.ValueKind != JsonValueKind.Object)
            {
                throw new DiscoveryException(topic, $"component '{component.Name}' is not an object");
            }

            var own = Expand(component.Value, s_abbreviations);
            if (own.Keys.All(k => k == "platform"))
            {
                continue; // Home Assistant's way to remove one component of a device
            }

            var merged = new Dictionary<string, JsonElement>(shared, StringComparer.Ordinal);
            foreach (var (key, value) in own)
            {
                merged[key] = value;
            }

            var platform = merged.TryGetValue("platform", out var p) ? p.GetString() ?? string.Empty : string.Empty;
            if (Ignored.Contains(platform))
            {
                continue; // a plug's firmware update beside its relay: the relay still counts
            }

            if (!Components.Contains(platform))
            {
                throw new DiscoveryException(topic, $"component '{component.Name}' has unknown platform '{platform}'");
            }

            entities.Add(Build($"{topic}#{component.Name}", platform, $"{where.ObjectId}_{component.Name}", merged));
        }

        return entities;
    }

    private static DiscoveredEntity Build(string topic, string component, string topicObjectId, Dictionary<string, JsonElement> config)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["component"] = component };
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        var baseTopic = config.TryGetValue("~", out var tilde) && tilde.ValueKind == JsonValueKind.String ? tilde.GetString() : null;
        foreach (var (key, value) in config)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    var text = value.GetString()!;
                    if (key.EndsWith("_topic", StringComparison.Ordinal) || key == "topic")
                    {
                        text = ExpandBase(text, baseTopic);
                        if (text.Length == 0 || text.Contains('+', StringComparison.Ordinal) || text.Contains('#', StringComparison.Ordinal))
                        {
                            throw new DiscoveryException(topic, $"{key} '{text}' is not a topic one can publish to");
                        }
                    }

                    settings[key] = text;
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    // As Home Assistant reads a boolean into a string setting (Python's str): zigbee2mqtt's
                    // "payload_on": false must equal what "{{ value_json.contact }}" prints, "False".
                    settings[key] = value.ValueKind == JsonValueKind.Number ? value.GetRawText() : value.ValueKind == JsonValueKind.True ? "True" : "False";
                    break;
                case JsonValueKind.Array when key is "supported_color_modes" or "modes" or "options" or "effect_list" or "preset_modes":
                    attributes[key] = value.EnumerateArray().Select(v => (object?)v.ToString()).ToList();
                    break;
                case JsonValueKind.Array when key == "availability":
                    var first = value.EnumerateArray().FirstOrDefault(v => v.ValueKind == JsonValueKind.Object);
                    if (first.ValueKind == JsonValueKind.Object)
                    {
                        var availability = Expand(first, s_abbreviations);
                        if (availability.TryGetValue("topic", out var t) && t.ValueKind == JsonValueKind.String)
                        {
                            settings["availability_topic"] = ExpandBase(t.GetString()!, baseTopic);
                        }

                        foreach (var option in new[] { "payload_available", "payload_not_available", "value_template" })
                        {
                            if (availability.TryGetValue(option, out var v) && v.ValueKind == JsonValueKind.String)
                            {
                                settings[option == "value_template" ? "availability_template" : option] = v.GetString()!;
                            }
                        }
                    }

                    break;
            }
        }

        var device = config.TryGetValue("device", out var d) && d.ValueKind == JsonValueKind.Object ? Expand(d, s_deviceAbbreviations) : null;
        var deviceName = device is not null && device.TryGetValue("name", out var dn) && dn.ValueKind == JsonValueKind.String ? dn.GetString() : null;
        var area = device is not null && device.TryGetValue("suggested_area", out var sa) && sa.ValueKind == JsonValueKind.String ? sa.GetString() : null;

        // Naming as in Home Assistant: an entity on a device is "<device> <entity name>", or just
        // "<device>" when its name is null (the device's main feature).
        var hasName = config.TryGetValue("name", out var n);
        var ownName = hasName && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var name = (deviceName, ownName, hasName && n.ValueKind == JsonValueKind.Null) switch
        {
            ({ } dev, { } own, _) when !own.StartsWith(dev, StringComparison.OrdinalIgnoreCase) => $"{dev} {own}",
            (_, { } own, _) => own,
            ({ } dev, null, _) => dev,
            _ => Humanize(topicObjectId),
        };

        var objectId = settings.GetValueOrDefault("object_id") ?? (ownName is null && deviceName is null ? topicObjectId : name);
        var id = $"{component}.{Slug(objectId)}";
        if (id.Length == component.Length + 1)
        {
            throw new DiscoveryException(topic, "no name, object_id or usable topic to name the entity by");
        }

        Validate(topic, component, settings);
        if (settings.TryGetValue("device_class", out var deviceClass))
        {
            attributes["device_class"] = deviceClass;
        }

        foreach (var key in new[] { "min_temp", "max_temp", "unit_of_measurement", "schema", "brightness_scale" })
        {
            if (settings.TryGetValue(key, out var v))
            {
                attributes[key] = v;
            }
        }

        if (component == "light" && !attributes.ContainsKey("supported_color_modes"))
        {
            attributes["supported_color_modes"] = settings.ContainsKey("rgb_command_topic") || settings.ContainsKey("hs_command_topic")
                ? new List<object?> { "rgb" }
                : settings.ContainsKey("brightness_command_topic") || string.Equals(settings.GetValueOrDefault("brightness"), "true", StringComparison.OrdinalIgnoreCase)
                    ? new List<object?> { "brightness" }
                    : new List<object?> { "onoff" };
        }

        var entity = new Entity(id, name, null, [], null, attributes, new MqttBinding(settings), Source: "mqtt");
        return new DiscoveredEntity(topic, entity, area, deviceName);
    }

    /// <summary>What each component needs to be usable, as Home Assistant requires it.</summary>
    private static void Validate(string topic, string component, Dictionary<string, string> settings)
    {
        string? missing = component switch
        {
            "light" when settings.GetValueOrDefault("schema") is "template" => throw new DiscoveryException(topic, "template-schema lights are not supported (their payloads are Jinja programs)"),
            "light" or "switch" or "fan" or "lock" or "button" when !settings.ContainsKey("command_topic") => "command_topic",
            "scene" when !settings.ContainsKey("command_topic") => "command_topic",
            "cover" when !settings.ContainsKey("command_topic") && !settings.ContainsKey("set_position_topic") => "command_topic or set_position_topic",
            "climate" when !settings.Keys.Any(k => k is "temperature_command_topic" or "mode_command_topic" or "power_command_topic") => "temperature_command_topic, mode_command_topic or power_command_topic",
            "sensor" or "binary_sensor" when !settings.ContainsKey("state_topic") => "state_topic",
            "media_player" when !settings.Keys.Any(k => k.StartsWith("command_", StringComparison.Ordinal) && k.EndsWith("_topic", StringComparison.Ordinal)) => "a command_*_topic",
            _ => null,
        };
        if (missing is not null)
        {
            throw new DiscoveryException(topic, $"a {component} needs {missing}");
        }
    }

    private static string ExpandBase(string value, string? baseTopic) =>
        baseTopic is null ? value
        : value.StartsWith('~') ? baseTopic + value[1..]
        : value.EndsWith('~') ? value[..^1] + baseTopic
        : value;

    private static Dictionary<string, JsonElement> Expand(JsonElement element, Dictionary<string, string> table)
    {
        var expanded = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            expanded[table.GetValueOrDefault(property.Name, property.Name)] = property.Value;
        }

        return expanded;
    }

    private static Dictionary<string, string> Table(string pairs) =>
        pairs.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    /// <summary>An entity id part as Home Assistant makes one: lower case, runs of other characters to '_'.</summary>
    public static string Slug(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text.Normalize(NormalizationForm.FormKD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
            else if (builder.Length > 0 && builder[^1] != '_')
            {
                builder.Append('_');
            }
        }

        return builder.ToString().Trim('_');
    }

    private static string Humanize(string objectId)
    {
        var words = objectId.Replace('_', ' ').Replace('-', ' ').Trim();
        return words.Length == 0 ? objectId : char.ToUpperInvariant(words[0]) + words[1..];
    }
}
