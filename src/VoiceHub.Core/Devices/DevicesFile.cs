using System.Globalization;
using VoiceHub.Core.Configuration;
using YamlDotNet.RepresentationModel;

namespace VoiceHub.Core.Devices;

/// <summary>
/// Reads a devices file (Home Assistant's entity model, shaped like its intent test fixtures)
/// into a <see cref="DeviceRegistry"/>. Duplicate ids, unknown areas or floors, ids without a
/// domain and names that are empty are errors naming the file and line.
/// </summary>
public static class DevicesFile
{
    public static DeviceRegistry Load(string path) => Parse(YamlFile.Load(path));

    public static DeviceRegistry Parse(string path, string yaml) => Parse(YamlFile.Parse(path, yaml));

    private static DeviceRegistry Parse(YamlFile document)
    {
        var root = document.Mapping(document.Root, "a devices file");
        foreach (var key in root.Children.Keys)
        {
            var name = document.Scalar(key, "a key");
            // timers and media are Home Assistant test-fixture state (running timers, media titles): read past.
            if (name is not ("floors" or "areas" or "entities" or "language" or "timers" or "media"))
            {
                throw document.Error(key, $"unknown section '{name}' (floors, areas, entities)");
            }
        }

        var floors = new List<Floor>();
        var floorLines = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in Items(document, root, "floors"))
        {
            var mapping = document.Mapping(node, "a floor");
            var id = document.RequiredString(mapping, "id", "a floor");
            if (!floorLines.TryAdd(id, node.Start.Line))
            {
                throw document.Error(node, $"floor '{id}' is listed twice (first at line {floorLines[id]})");
            }

            floors.Add(new Floor(id, document.OptionalString(mapping, "name") ?? id, document.Strings(mapping, "aliases")));
        }

        var areas = new List<Area>();
        var areaLines = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in Items(document, root, "areas"))
        {
            var mapping = document.Mapping(node, "an area");
            var id = document.RequiredString(mapping, "id", "an area");
            if (!areaLines.TryAdd(id, node.Start.Line))
            {
                throw document.Error(node, $"area '{id}' is listed twice (first at line {areaLines[id]})");
            }

            var floor = document.OptionalString(mapping, "floor");
            if (floor is not null && !floorLines.ContainsKey(floor))
            {
                throw document.Error(node, $"area '{id}' is on floor '{floor}', which is not among the floors ({string.Join(", ", floorLines.Keys)})");
            }

            areas.Add(new Area(id, document.OptionalString(mapping, "name") ?? id, floor, document.Strings(mapping, "aliases")));
        }

        var entities = new List<Entity>();
        var entityLines = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var node in Items(document, root, "entities"))
        {
            var mapping = document.Mapping(node, "an entity");
            var id = document.RequiredString(mapping, "id", "an entity");
            var dot = id.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || dot == id.Length - 1 || id[..dot].Any(char.IsWhiteSpace))
            {
                throw document.Error(node, $"entity id '{id}' is not <domain>.<object_id>");
            }

            if (!entityLines.TryAdd(id, node.Start.Line))
            {
                throw document.Error(node, $"entity '{id}' is listed twice (first at line {entityLines[id]})");
            }

            var name = document.OptionalString(mapping, "name") ?? id[(dot + 1)..].Replace('_', ' ');
            if (Intents.Templates.TextNormalizer.Tokenize(name).Length == 0)
            {
                throw document.Error(node, $"entity '{id}' has a name with no words in it");
            }

            var area = document.OptionalString(mapping, "area");
            if (area is not null && !areaLines.ContainsKey(area))
            {
                throw document.Error(node, $"entity '{id}' is in area '{area}', which is not among the areas ({string.Join(", ", areaLines.Keys)})");
            }

            var attributes = YamlFile.Child(mapping, "attributes") is { } attributeNode
                ? ((Dictionary<string, object?>?)YamlFile.Plain(document.Mapping(attributeNode, "attributes")))!
                : new Dictionary<string, object?>();
            entities.Add(new Entity(
                id,
                name,
                area,
                document.Strings(mapping, "aliases"),
                // Home Assistant's fixtures give a state as {in: what is said, out: the state}.
                YamlFile.Child(mapping, "state") is YamlMappingNode state ? document.RequiredString(state, "out", "a state") : document.OptionalString(mapping, "state"),
                attributes,
                ReadMqtt(document, mapping),
                ReadGpio(document, mapping)));
        }

        return new DeviceRegistry(floors, areas, entities);
    }

    private static IEnumerable<YamlNode> Items(YamlFile document, YamlMappingNode root, string key) =>
        YamlFile.Child(root, key) is { } node and not YamlScalarNode ? document.Sequence(node, key).Children : [];

    private static MqttBinding? ReadMqtt(YamlFile document, YamlMappingNode entity)
    {
        if (YamlFile.Child(entity, "mqtt") is not { } node)
        {
            return null;
        }

        var settings = document.Mapping(node, "mqtt").Children.ToDictionary(
            kv => document.Scalar(kv.Key, "an mqtt key"),
            kv => kv.Value is YamlScalarNode s ? s.Value ?? string.Empty : System.Text.Json.JsonSerializer.Serialize(YamlFile.Plain(kv.Value)),
            StringComparer.Ordinal);
        return new MqttBinding(settings);
    }

    private static GpioBinding? ReadGpio(YamlFile document, YamlMappingNode entity)
    {
        if (YamlFile.Child(entity, "gpio") is not { } node)
        {
            return null;
        }

        var gpio = document.Mapping(node, "gpio");
        var chip = document.OptionalString(gpio, "chip") ?? "gpiochip0";
        var lineText = document.RequiredString(gpio, "line", "gpio");
        if (!int.TryParse(lineText, NumberStyles.None, CultureInfo.InvariantCulture, out var line))
        {
            throw document.Error(node, $"gpio line '{lineText}' is not a line number");
        }

        var activeLow = document.OptionalString(gpio, "active_low") is { } low && bool.TryParse(low, out var parsed) && parsed;
        return new GpioBinding(chip, line, activeLow);
    }
}
