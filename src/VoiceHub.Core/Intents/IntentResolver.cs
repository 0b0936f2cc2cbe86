using System.Globalization;
using System.Text;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Core.Intents;

/// <summary>An intent with its slots, from a template match or from the language model, before targets are resolved.</summary>
public sealed record IntentCandidate(
    string Intent,
    IReadOnlyList<Capture> Captures,
    IReadOnlyDictionary<string, object> FixedSlots,
    string Source,
    string? ResponseKey = null,
    IReadOnlyDictionary<string, string>? Metadata = null,
    string? Sentence = null);

/// <summary>One confirmation rule: this intent on this domain (and device class) needs a spoken yes.</summary>
public sealed record ConfirmationRule(string Intent, string Domain, string? DeviceClass = null);

/// <summary>
/// Turns an intent candidate into a command: resolves the entities it acts on (by name, area,
/// floor, or the speaker's own room), asks instead of guessing when that is ambiguous, checks
/// values against what devices accept, applies the confirmation policy, and words the response.
/// </summary>
public sealed class IntentResolver(DeviceRegistry registry, IntentSet intents, IReadOnlyList<ConfirmationRule> confirmations, TimeProvider clock, IEntityStates? states = null)
{
    /// <summary>Intents that act on nothing in the home.</summary>
    private static readonly HashSet<string> s_noTargets = new(StringComparer.Ordinal)
    {
        IntentNames.Nevermind, IntentNames.StartTimer, IntentNames.CancelTimer, IntentNames.CancelAllTimers, IntentNames.PauseTimer, IntentNames.UnpauseTimer,
        IntentNames.IncreaseTimer, IntentNames.DecreaseTimer, IntentNames.TimerStatus, IntentNames.GetCurrentTime, IntentNames.GetCurrentDate,
        IntentNames.LearnWakeWord,
    };

    private static readonly Dictionary<string, (string One, string Many)> s_nouns = new(StringComparer.Ordinal)
    {
        ["light"] = ("light", "lights"), ["switch"] = ("switch", "switches"), ["fan"] = ("fan", "fans"),
        ["cover"] = ("cover", "covers"), ["lock"] = ("lock", "locks"), ["climate"] = ("thermostat", "thermostats"),
        ["media_player"] = ("media player", "media players"), ["sensor"] = ("sensor", "sensors"),
        ["binary_sensor"] = ("sensor", "sensors"), ["scene"] = ("scene", "scenes"), ["script"] = ("script", "scripts"),
        ["alarm_control_panel"] = ("alarm", "alarms"), ["vacuum"] = ("vacuum", "vacuums"),
    };

    /// <summary>The policy VoiceHub ships: unlocking, disarming and opening covers are confirmed first.</summary>
    public static IReadOnlyList<ConfirmationRule> DefaultConfirmations { get; } =
    [
        new(IntentNames.TurnOff, "lock"),
        new(IntentNames.Toggle, "lock"),
        new(IntentNames.TurnOff, "alarm_control_panel"),
        new(IntentNames.OpenCover, "cover"),
        new(IntentNames.Toggle, "cover"),
        new(IntentNames.SetPosition, "cover"),
        new(IntentNames.TurnOn, "cover"),
    ];

    public IntentResult Resolve(string text, IntentCandidate candidate, IReadOnlyDictionary<string, string> context)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var slots = new Dictionary<string, object>(candidate.FixedSlots, StringComparer.Ordinal);
        foreach (var capture in candidate.Captures)
        {
            slots[capture.Slot] = capture.Value;
        }

        var result = new IntentResult
        {
            Text = text,
            Intent = candidate.Intent,
            Slots = slots,
            Source = candidate.Source,
            Status = IntentStatus.Ok,
            Sentence = candidate.Sentence,
        };

        // A name heard with a slip that is about as close to another name: ask, never guess.
        if (candidate.Captures.FirstOrDefault(c => c.List?.CloseAlternatives is { Count: > 0 }) is { } unsure)
        {
            var options = unsure.List!.CloseAlternatives!.Prepend(unsure.List).Select(l => Describe(l.Out)).Distinct().ToList();
            return result with { Status = IntentStatus.Clarify, Response = $"Did you mean {Or(options)}?" };
        }

        // Listed intents, and any intent outside Home Assistant's device intents whose sentence named
        // no device, area or domain (answers, custom intents like ordering a coffee), act on nothing.
        var aboutDevices = slots.Keys.Any(k => k is "name" or "area" or "floor" or "domain" or "device_class");
        if (s_noTargets.Contains(candidate.Intent) || (!aboutDevices && !candidate.Intent.StartsWith("Hass", StringComparison.Ordinal)))
        {
            return result with { Response = Render(candidate, slots, []) };
        }

        var (targets, problem) = ResolveTargets(candidate, slots, context);
        if (problem is not null)
        {
            return result with { Status = problem.Value.Status, Response = problem.Value.Response, PendingTargets = targets.Count > 0 ? [.. targets.Select(t => t.Id)] : null };
        }

        if (CheckValues(candidate.Intent, slots, targets) is { } invalid)
        {
            return result with { Status = IntentStatus.Error, Response = invalid };
        }

        var response = Render(candidate, slots, targets);
        var confirm = targets.Where(t => NeedsConfirmation(candidate.Intent, t, slots)).ToList();
        if (confirm.Count > 0)
        {
            return result with
            {
                Status = IntentStatus.Confirm,
                PendingTargets = [.. targets.Select(t => t.Id)],
                Response = candidate.Intent == IntentNames.SetPosition
                    ? $"Do you want me to move {Names(confirm)} to {NumberFormatting.Format(slots.GetValueOrDefault("position") ?? 0)} percent? Say yes to confirm."
                    : $"Do you want me to {Action(candidate.Intent, confirm[0].Domain)} {Names(confirm)}? Say yes to confirm.",
            };
        }

        return result with { Targets = [.. targets.Select(t => t.Id)], Response = response };
    }

    private (List<Entity> Targets, (IntentStatus Status, string Response)? Problem) ResolveTargets(IntentCandidate candidate, Dictionary<string, object> slots, IReadOnlyDictionary<string, string> context)
    {
        var domains = slots.TryGetValue("domain", out var d) ? d.ToString()!.Split(',', StringSplitOptions.TrimEntries) : null;
        var deviceClass = slots.TryGetValue("device_class", out var dc) ? dc.ToString() : null;
        var area = candidate.Captures.FirstOrDefault(c => c.Slot == "area")?.List?.Area;
        var floor = candidate.Captures.FirstOrDefault(c => c.Slot == "floor")?.List?.Floor;
        var contextArea = context.TryGetValue("area", out var a) ? registry.FindAreaByName(a) ?? registry.FindArea(a) : null;
        var single = candidate.Metadata?.GetValueOrDefault("targets") == "one";
        var all = candidate.Metadata?.GetValueOrDefault("targets") == "all"; // a question about the whole home when no place is named
        bool Wanted(Entity e) => (domains is null || domains.Contains(e.Domain)) && (deviceClass is null || e.DeviceClass == deviceClass);

        if (candidate.Captures.FirstOrDefault(c => c.List?.Entities.Count > 0) is { } named)
        {
            var entities = named.List!.Entities.ToList();
            if (area is not null)
            {
                var inArea = entities.Where(e => e.AreaId == area.Id).ToList();
                if (inArea.Count == 0)
                {
                    return ([], (IntentStatus.Error, $"There is no {named.Spoken} in the {Lower(area.Name)}."));
                }

                entities = inArea;
            }
            else if (entities.Count > 1 && contextArea is not null && entities.Any(e => e.AreaId == contextArea.Id))
            {
                entities = [.. entities.Where(e => e.AreaId == contextArea.Id)];
            }

            if (entities.Count > 1)
            {
                var where = entities.Select(e => registry.AreaOf(e)?.Name is { } n ? $"the one in the {Lower(n)}" : SpokenName(e)).Distinct().ToList();
                return (entities, (IntentStatus.Clarify, where.Count == entities.Count
                    ? $"Which {named.Spoken} do you mean: {Or(where)}?"
                    : $"Which {named.Spoken} do you mean: {Or(entities.Select(e => SpokenName(e)).ToList())}?"));
            }

            slots["name"] = entities[0].Name;
            if (registry.AreaOf(entities[0]) is { } entityArea && !slots.ContainsKey("area"))
            {
                slots["area"] = entityArea.Name;
            }

            return (entities, null);
        }

        string Noun(bool many) => domains is { Length: 1 } && s_nouns.TryGetValue(domains[0], out var n) ? (many ? n.Many : n.One) : (many ? "devices" : "device");

        if (area is not null || floor is not null)
        {
            var pool = area is not null ? registry.InArea(area.Id) : registry.OnFloor(floor!.Id);
            var found = pool.Where(Wanted).ToList();
            var place = Lower(area?.Name ?? floor!.Name);
            if (found.Count == 0)
            {
                return ([], (IntentStatus.Error, $"There are no {Noun(many: true)} in the {place}."));
            }

            if (single && found.Count > 1)
            {
                return (found, (IntentStatus.Clarify, $"Which {Noun(many: false)} in the {place}: {Or(found.Select(e => SpokenName(e)).ToList())}?"));
            }

            return (found, null);
        }

        if (domains is null)
        {
            return ([], (IntentStatus.Error, "I don't know which device you mean."));
        }

        // No name, no place: the speaker's own room, else the only such device in the home.
        var local = contextArea is null || all ? [] : registry.InArea(contextArea.Id).Where(Wanted).ToList();
        if (local.Count > 0)
        {
            slots.TryAdd("area", contextArea!.Name);
            if (single && local.Count > 1)
            {
                return (local, (IntentStatus.Clarify, $"Which {Noun(many: false)}: {Or(local.Select(e => SpokenName(e)).ToList())}?"));
            }

            return (local, null);
        }

        var everywhere = registry.Entities.Where(Wanted).ToList();
        if (everywhere.Count == 1 || (all && everywhere.Count > 0))
        {
            return (everywhere, null);
        }

        if (everywhere.Count == 0)
        {
            return ([], (IntentStatus.Error, $"There are no {Noun(many: true)} here."));
        }

        var rooms = everywhere.Select(e => registry.AreaOf(e)?.Name).OfType<string>().Distinct().ToList();
        return (everywhere, (IntentStatus.Clarify, rooms.Count > 1 ? $"In which room: {Or(rooms.Select(r => $"the {Lower(r)}").ToList())}?" : $"Which {Noun(many: false)}: {Or(everywhere.Select(e => SpokenName(e)).ToList())}?"));
    }

    private static string? CheckValues(string intent, Dictionary<string, object> slots, List<Entity> targets)
    {
        if (intent == IntentNames.ClimateSetTemperature && slots.TryGetValue("temperature", out var t) && Convert.ToDouble(t, CultureInfo.InvariantCulture) is var temperature)
        {
            foreach (var target in targets)
            {
                var min = target.NumberAttribute("min_temp") ?? 5;
                var max = target.NumberAttribute("max_temp") ?? 35;
                if (temperature < min || temperature > max)
                {
                    return Capitalize($"{SpokenName(target)} can be set between {min:0.#} and {max:0.#} degrees.");
                }
            }
        }

        if (intent == IntentNames.LightSet && slots.ContainsKey("color"))
        {
            var mono = targets.Where(e => e.Attributes.TryGetValue("supported_color_modes", out var modes) && modes is IEnumerable<object?> list && !list.Any(m => m?.ToString() is "rgb" or "hs" or "xy" or "rgbw" or "rgbww")).ToList();
            if (mono.Count > 0 && mono.Count == targets.Count)
            {
                return Capitalize($"{Names(mono)} can't change color.");
            }
        }

        return null;
    }

    private bool NeedsConfirmation(string intent, Entity entity, Dictionary<string, object> slots)
    {
        foreach (var rule in confirmations)
        {
            if (rule.Intent == intent && rule.Domain == entity.Domain && (rule.DeviceClass is null || rule.DeviceClass == entity.DeviceClass))
            {
                // Closing a cover half-way is fine; only raising it counts as opening.
                return intent != IntentNames.SetPosition || !slots.TryGetValue("position", out var p) || Convert.ToDouble(p, CultureInfo.InvariantCulture) > 0;
            }
        }

        return false;
    }

    private static string Action(string intent, string domain) => (intent, domain) switch
    {
        (IntentNames.TurnOff, "lock") => "unlock",
        (IntentNames.TurnOn, "lock") => "lock",
        (IntentNames.TurnOff, "alarm_control_panel") => "disarm",
        (IntentNames.TurnOn, "cover") => "open",
        (IntentNames.Toggle, _) => "toggle",
        (IntentNames.TurnOff, _) => "turn off",
        (IntentNames.OpenCover, _) => "open",
        _ => "turn on",
    };

    private string Render(IntentCandidate candidate, Dictionary<string, object> slots, List<Entity> targets)
    {
        var table = intents.Responses.GetValueOrDefault(candidate.Intent);
        var template = candidate.ResponseKey is not null && table?.GetValueOrDefault(candidate.ResponseKey) is { } keyed
            ? keyed
            : table?.GetValueOrDefault("default");
        if (template is null)
        {
            return "Done.";
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in slots)
        {
            values[k] = v switch
            {
                double or long or int => NumberFormatting.Format(v),
                _ when k is "area" or "floor" => Lower(v.ToString() ?? string.Empty),
                _ => v.ToString() ?? string.Empty,
            };
        }

        values["targets"] = Names(targets);
        if (targets.Count == 1)
        {
            var live = Live(targets[0]);
            values["name"] = SpokenName(live);
            values["actual_state"] = StateWords(live);
            values["answer"] = slots.TryGetValue("state", out var asked) && IsIn(live, asked.ToString() ?? string.Empty) ? "yes" : "no";
            values["current_temperature"] = live.NumberAttribute("current_temperature") is { } temperature
                ? temperature.ToString("0.#", CultureInfo.InvariantCulture)
                : live.Domain == "sensor" && live.State is { } s ? s : "unknown";
        }

        // Questions about several devices: any, all, which, how many are in the asked state.
        if (slots.TryGetValue("state", out var askedState) && askedState.ToString() is { } wanted && targets.Count > 0)
        {
            var inState = targets.Where(t => IsIn(Live(t), wanted)).ToList();
            var others = targets.Except(inState).ToList();
            values["any_answer"] = inState.Count == 0 ? "No" : $"Yes, {Names(inState)}";
            values["all_answer"] = others.Count == 0 ? "Yes" : $"No, {Names(others)} {(others.Count == 1 ? "is" : "are")} not {StateWords(wanted)}";
            values["which_answer"] = inState.Count == 0 ? $"None of them is {StateWords(wanted)}" : Capitalize(Names(inState));
            values["how_many_answer"] = inState.Count.ToString(CultureInfo.InvariantCulture);
        }

        var domain = slots.GetValueOrDefault("domain")?.ToString();
        values["noun"] = domain is not null && s_nouns.TryGetValue(domain, out var noun) ? (targets.Count == 1 ? noun.One : noun.Many) : (targets.Count == 1 ? "device" : "devices");
        var now = clock.GetLocalNow();
        values["time"] = now.ToString("h:mm tt", CultureInfo.InvariantCulture);
        values["date"] = now.ToString("dddd, MMMM d", CultureInfo.InvariantCulture);
        values["duration"] = Duration(slots);

        // A keyed response that names a slot this utterance did not fill ("Set the {area} ..." with
        // no area) falls back to the default one.
        if (table?.GetValueOrDefault("default") is { } fallback && template != fallback && Placeholders(template).Any(k => !values.ContainsKey(k) || values[k].Length == 0))
        {
            template = fallback;
        }

        var builder = new StringBuilder(template.Length + 32);
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] == '{' && template.IndexOf('}', i) is var close and > 0)
            {
                var key = template[(i + 1)..close];
                builder.Append(values.TryGetValue(key, out var value) ? value : string.Empty);
                i = close;
            }
            else
            {
                builder.Append(template[i]);
            }
        }

        var sentence = builder.ToString().Replace("  ", " ", StringComparison.Ordinal).Trim();
        return sentence.Length > 0 ? char.ToUpperInvariant(sentence[0]) + sentence[1..] : sentence;
    }

    private static IEnumerable<string> Placeholders(string template)
    {
        for (var open = template.IndexOf('{', StringComparison.Ordinal); open >= 0; open = template.IndexOf('{', open + 1))
        {
            var close = template.IndexOf('}', open);
            if (close < 0)
            {
                yield break;
            }

            yield return template[(open + 1)..close];
        }
    }

    private static string Duration(Dictionary<string, object> slots)
    {
        var parts = new List<string>();
        foreach (var (slot, unit) in new[] { ("hours", "hour"), ("minutes", "minute"), ("seconds", "second") })
        {
            if (slots.TryGetValue(slot, out var value))
            {
                var n = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                parts.Add($"{NumberFormatting.Format(value)} {unit}{(Math.Abs(n - 1) < 1e-9 ? string.Empty : "s")}");
            }
        }

        return parts.Count == 0 ? string.Empty : string.Join(" and ", parts);
    }

    private static string Describe(object value) => SpokenName(value.ToString() ?? string.Empty);

    private static string Names(List<Entity> entities) => entities.Count switch
    {
        0 => "nothing",
        _ => Or(entities.Select(e => SpokenName(e)).ToList(), "and"),
    };

    /// <summary>
    /// What a binary sensor's on and off mean for its device class, as Home Assistant shows them:
    /// a door that is "on" is open, a motion sensor that is "on" has detected motion.
    /// </summary>
    private static readonly Dictionary<string, (string On, string Off)> s_binaryStates = new(StringComparer.Ordinal)
    {
        ["door"] = ("open", "closed"), ["window"] = ("open", "closed"), ["garage_door"] = ("open", "closed"), ["opening"] = ("open", "closed"),
        ["motion"] = ("detected", "clear"), ["occupancy"] = ("detected", "clear"), ["presence"] = ("home", "away"), ["moving"] = ("moving", "not moving"),
        ["moisture"] = ("wet", "dry"), ["smoke"] = ("detected", "clear"), ["gas"] = ("detected", "clear"), ["carbon_monoxide"] = ("detected", "clear"),
        ["sound"] = ("detected", "clear"), ["vibration"] = ("detected", "clear"), ["tamper"] = ("tampered with", "clear"), ["light"] = ("light detected", "dark"),
        ["battery"] = ("low", "normal"), ["battery_charging"] = ("charging", "not charging"), ["cold"] = ("cold", "normal"), ["heat"] = ("hot", "normal"),
        ["connectivity"] = ("connected", "disconnected"), ["lock"] = ("unlocked", "locked"), ["plug"] = ("plugged in", "unplugged"), ["power"] = ("on", "off"),
        ["problem"] = ("a problem", "OK"), ["running"] = ("running", "not running"), ["safety"] = ("unsafe", "safe"), ["update"] = ("an update available", "up to date"),
    };

    /// <summary>Whether an entity is in the asked state, asked as Home Assistant stores it ("on") or as it is said ("open").</summary>
    private static bool IsIn(Entity entity, string asked) =>
        string.Equals(entity.State, asked, StringComparison.OrdinalIgnoreCase) || string.Equals(StateWords(entity), asked, StringComparison.OrdinalIgnoreCase);

    /// <summary>An entity's state as said: "open" for a door sensor that is on, "45 percent" for a humidity sensor, "at Work" for a person in a zone.</summary>
    private static string StateWords(Entity entity)
    {
        var state = entity.State ?? "unknown";
        return entity.Domain switch
        {
            "binary_sensor" when state is "on" or "off" && s_binaryStates.TryGetValue(entity.DeviceClass ?? string.Empty, out var words) => state == "on" ? words.On : words.Off,
            "sensor" when entity.Attributes.GetValueOrDefault("unit_of_measurement")?.ToString() is { Length: > 0 } unit => $"{state} {UnitWords(unit)}",
            "person" when state is not ("home" or "not_home" or "unknown") => $"at {state}", // a zone
            _ => StateWords(state),
        };
    }

    private static string UnitWords(string unit) => unit switch
    {
        "%" => "percent",
        "°C" or "°F" or "°" => "degrees",
        "W" => "watts",
        "kW" => "kilowatts",
        "kWh" => "kilowatt hours",
        "lx" => "lux",
        "ppm" => "parts per million",
        "hPa" => "hectopascals",
        "V" => "volts",
        "A" => "amps",
        _ => unit,
    };

    /// <summary>A state as said: a person's "not_home" is "away".</summary>
    private static string StateWords(string state) => state switch
    {
        "home" => "at home",
        "not_home" => "away",
        _ => state.Replace('_', ' '),
    };

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>
    /// "Kitchen light" in the middle of a sentence: "kitchen light". A name written in title case
    /// ("Play Corner", "Bedroom Lamp") or an acronym is a proper name and stays as written.
    /// </summary>
    private static string Lower(string name) =>
        name.Length > 1 && char.IsUpper(name[0]) && char.IsLower(name[1]) && !name.Split(' ').Skip(1).Any(w => w.Length > 0 && char.IsUpper(w[0]))
            ? char.ToLowerInvariant(name[0]) + name[1..]
            : name;

    /// <summary>The entity with what the home reports now (state topics), where the hub has heard it.</summary>
    private Entity Live(Entity entity)
    {
        if (states?.Find(entity.Id) is not { } live)
        {
            return entity;
        }

        var attributes = new Dictionary<string, object?>(entity.Attributes, StringComparer.Ordinal);
        foreach (var (key, value) in live.Attributes)
        {
            attributes[key] = value;
        }

        return entity with { State = live.State ?? entity.State, Attributes = attributes };
    }

    /// <summary>An entity as said in a sentence: "the kitchen light", but a person by their name alone.</summary>
    public static string SpokenName(Entity entity) => entity.Domain == "person" ? entity.Name : SpokenName(entity.Name);

    /// <summary>"Kitchen light" as it is said in a sentence: "the kitchen light" (acronyms and "my ..." left alone).</summary>
    public static string SpokenName(string name)
    {
        if (name.Length == 0)
        {
            return name;
        }

        var lowered = Lower(name);
        return lowered.StartsWith("the ", StringComparison.OrdinalIgnoreCase) || lowered.StartsWith("my ", StringComparison.OrdinalIgnoreCase) ? lowered : "the " + lowered;
    }

    private static string Or(List<string> items, string conjunction = "or") => items.Count switch
    {
        0 => string.Empty,
        1 => items[0],
        _ => $"{string.Join(", ", items.Take(items.Count - 1))} {conjunction} {items[^1]}",
    };
}
