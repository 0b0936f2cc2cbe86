using System.Globalization;
using System.Text;
using System.Text.Json;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Native.Grammar;

namespace VoiceHub.Core.Intents.Slm;

/// <summary>
/// What the language model may answer, as a GBNF grammar built from the live registry: one JSON
/// object naming a known intent and only existing entities (from the shortlist), existing areas,
/// and values inside the ranges the devices accept, or <c>{"intent": "none"}</c>. The same schema
/// turns an answer back into an <see cref="IntentCandidate"/> and re-checks it.
/// </summary>
public sealed class CommandSchema
{
    private static readonly Dictionary<string, string> s_impliedDomains = new(StringComparer.Ordinal)
    {
        [IntentNames.ClimateGetTemperature] = "climate", [IntentNames.ClimateSetTemperature] = "climate",
        [IntentNames.MediaPause] = "media_player", [IntentNames.MediaUnpause] = "media_player", [IntentNames.MediaNext] = "media_player",
        [IntentNames.MediaPrevious] = "media_player", [IntentNames.SetVolume] = "media_player",
    };

    private static readonly string[] s_onOffDomains = ["light", "switch", "fan", "media_player", "input_boolean", "lock", "scene", "script"];

    private readonly DeviceRegistry _registry;
    private readonly IReadOnlyList<Entity> _candidates;
    private readonly IReadOnlyList<string> _colors;

    public CommandSchema(DeviceRegistry registry, IReadOnlyList<Entity> candidates, IReadOnlyList<string> colors)
    {
        _registry = registry;
        _candidates = candidates;
        _colors = colors;
        Grammar = GbnfGrammar.Parse(BuildGrammar());
    }

    public GbnfGrammar Grammar { get; }

    /// <summary>Intents the model can produce, with the words the prompt uses to explain them.</summary>
    public static IReadOnlyList<(string Intent, string Meaning)> Intents { get; } =
    [
        (IntentNames.TurnOn, "turn on, switch on, activate, open (a cover, blind or garage door) or lock a device, or the lights of an area"),
        (IntentNames.TurnOff, "turn off, switch off, deactivate, close (a cover, blind or garage door) or unlock a device, or the lights of an area"),
        (IntentNames.Toggle, "toggle a device"),
        (IntentNames.LightSet, "set a light's brightness (0-100) or color"),
        (IntentNames.SetPosition, "move a cover to a position (0-100)"),
        (IntentNames.ClimateSetTemperature, "set a thermostat's temperature"),
        (IntentNames.ClimateGetTemperature, "ask the temperature of an area"),
        (IntentNames.GetState, "ask whether a device is on, open, locked"),
        (IntentNames.MediaPause, "pause music or media"),
        (IntentNames.MediaUnpause, "resume music or media"),
        (IntentNames.MediaNext, "skip to the next track"),
        (IntentNames.MediaPrevious, "go back to the previous track"),
        (IntentNames.SetVolume, "set the volume (0-100)"),
        (IntentNames.StartTimer, "start a timer"),
        (IntentNames.CancelTimer, "cancel the timer"),
        (IntentNames.GetCurrentTime, "ask the time"),
        (IntentNames.Nevermind, "cancel what was asked"),
    ];

    private IEnumerable<Entity> Named(params string[] domains) => _candidates.Where(e => domains.Contains(e.Domain));

    private string BuildGrammar()
    {
        var rules = new StringBuilder();
        var alternatives = new List<string> { "\"{\\\"intent\\\": \\\"none\\\"}\"" };

        void Command(string intent, string? body)
        {
            var rule = "cmd-" + intent.ToLowerInvariant();
            alternatives.Add(rule);
            rules.Append(CultureInfo.InvariantCulture, $"{rule} ::= \"{{\\\"intent\\\": \\\"{intent}\\\"\"{(body is null ? string.Empty : " " + body)} \"}}\"\n");
        }

        string? NameRule(string rule, IEnumerable<Entity> entities)
        {
            var names = entities.Select(e => e.Name).Distinct(StringComparer.Ordinal).ToList();
            if (names.Count == 0)
            {
                return null;
            }

            rules.Append(CultureInfo.InvariantCulture, $"{rule} ::= {string.Join(" | ", names.Select(n => Literal(JsonSerializer.Serialize(n))))}\n");
            return rule;
        }

        var areaRule = _registry.Areas.Count > 0 ? "area" : null;
        if (areaRule is not null)
        {
            rules.Append(CultureInfo.InvariantCulture, $"area ::= {string.Join(" | ", _registry.Areas.Select(a => Literal(JsonSerializer.Serialize(a.Name))))}\n");
        }

        rules.Append("percent ::= \"100\" | [1-9] [0-9]? | \"0\"\n");

        var onOff = NameRule("name-onoff", Named(s_onOffDomains));
        var cover = NameRule("name-cover", Named("cover"));
        var target = new List<string>();
        if (onOff is not null)
        {
            target.Add($"\", \\\"name\\\": \" {onOff}");
        }

        if (cover is not null)
        {
            // Opening and closing are turning a cover on and off, as in Home Assistant's intents since 2023.
            target.Add($"\", \\\"name\\\": \" {cover}");
        }

        if (areaRule is not null)
        {
            target.Add("\", \\\"area\\\": \" area \", \\\"domain\\\": \" (\"\\\"light\\\"\" | \"\\\"fan\\\"\" | \"\\\"switch\\\"\")");
        }

        if (target.Count > 0)
        {
            rules.Append(CultureInfo.InvariantCulture, $"target ::= {string.Join(" | ", target.Select(t => $"({t})"))}\n");
            Command(IntentNames.TurnOn, "target");
            Command(IntentNames.TurnOff, "target");
        }

        if (onOff is not null)
        {
            Command(IntentNames.Toggle, $"\", \\\"name\\\": \" {onOff}");
        }

        if (NameRule("name-light", Named("light")) is { } light)
        {
            var color = _colors.Count > 0 ? $" | \", \\\"color\\\": \" ({string.Join(" | ", _colors.Select(c => Literal(JsonSerializer.Serialize(c))))})" : string.Empty;
            Command(IntentNames.LightSet, $"\", \\\"name\\\": \" {light} (\", \\\"brightness\\\": \" percent{color})");
        }

        if (cover is not null)
        {
            Command(IntentNames.SetPosition, $"\", \\\"name\\\": \" {cover} \", \\\"position\\\": \" percent");
        }

        var climates = Named("climate").ToList();
        if (climates.Count > 0)
        {
            var options = new List<string>();
            foreach (var climate in climates.DistinctBy(c => c.Name))
            {
                var min = climate.NumberAttribute("min_temp") ?? 5;
                var max = climate.NumberAttribute("max_temp") ?? 35;
                var values = new List<string>();
                for (var t = Math.Ceiling(min * 2) / 2; t <= max; t += 0.5)
                {
                    values.Add(Literal(t.ToString("0.#", CultureInfo.InvariantCulture)));
                }

                options.Add($"(\", \\\"name\\\": \" {Literal(JsonSerializer.Serialize(climate.Name))} \", \\\"temperature\\\": \" ({string.Join(" | ", values)}))");
            }

            Command(IntentNames.ClimateSetTemperature, $"({string.Join(" | ", options)})");
        }

        if (areaRule is not null)
        {
            Command(IntentNames.ClimateGetTemperature, "\", \\\"area\\\": \" area");
        }

        if (NameRule("name-any", _candidates) is { } any)
        {
            Command(IntentNames.GetState, $"\", \\\"name\\\": \" {any}");
        }

        var media = NameRule("name-media", Named("media_player"));
        var mediaTarget = media is null ? null : $"(\", \\\"name\\\": \" {media})?";
        Command(IntentNames.MediaPause, mediaTarget);
        Command(IntentNames.MediaUnpause, mediaTarget);
        Command(IntentNames.MediaNext, mediaTarget);
        Command(IntentNames.MediaPrevious, mediaTarget);
        Command(IntentNames.SetVolume, $"\", \\\"volume_level\\\": \" percent{(mediaTarget is null ? string.Empty : " " + mediaTarget)}");
        rules.Append("minutes ::= [1-9] [0-9]?\n");
        Command(IntentNames.StartTimer, "(\", \\\"hours\\\": \" [1-9] | \", \\\"minutes\\\": \" minutes | \", \\\"seconds\\\": \" minutes)");
        Command(IntentNames.CancelTimer, null);
        Command(IntentNames.GetCurrentTime, null);
        Command(IntentNames.Nevermind, null);

        return $"root ::= {string.Join(" | ", alternatives)}\n{rules}";
    }

    private static string Literal(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }

    /// <summary>
    /// Reads a model answer back: null for "none" or for anything the grammar should have made
    /// impossible (which is then also checked, so a broken sampler can never act).
    /// </summary>
    public IntentCandidate? Interpret(string answer)
    {
        if (!Grammar.Matches(answer))
        {
            return null;
        }

        using var json = JsonDocument.Parse(answer);
        var root = json.RootElement;
        var intent = root.GetProperty("intent").GetString()!;
        if (intent == "none")
        {
            return null;
        }

        var captures = new List<Capture>();
        var slots = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject().Where(p => p.Name != "intent"))
        {
            switch (property.Name)
            {
                case "name":
                    var name = property.Value.GetString()!;
                    var entities = _registry.Entities.Where(e => e.Name == name).ToList();
                    if (entities.Count == 0)
                    {
                        return null;
                    }

                    captures.Add(new Capture("name", name, name, 0, 0, new ListMatch(name, name, new Dictionary<string, string>(), entities), false));
                    break;
                case "area":
                    var area = _registry.FindAreaByName(property.Value.GetString()!);
                    if (area is null)
                    {
                        return null;
                    }

                    captures.Add(new Capture("area", area.Name, area.Name, 0, 0, new ListMatch(area.Name, area.Name, new Dictionary<string, string>(), [], Area: area), false));
                    break;
                case "domain" or "color":
                    slots[property.Name] = property.Value.GetString()!;
                    break;
                default:
                    var number = property.Value.GetDouble();
                    slots[property.Name] = Math.Abs(number - Math.Round(number)) < 1e-9 ? (long)Math.Round(number) : number;
                    break;
            }
        }

        if (s_impliedDomains.TryGetValue(intent, out var domain))
        {
            slots.TryAdd("domain", domain);
        }

        return new IntentCandidate(intent, captures, slots, "slm");
    }
}
