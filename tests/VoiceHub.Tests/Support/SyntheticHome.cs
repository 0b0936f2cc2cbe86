using VoiceHub.Core.Devices;


namespace VoiceHub.Tests.Support;

/// <summary>
/// A large, plausible home for scale tests and benchmarks: rooms on three floors, each with
/// lights, switches, fans, covers, climate and media, named the way people name them.
/// </summary>
public static class SyntheticHome
{
    private static readonly string[] s_rooms =
    [
        "Kitchen", "Living room", "Dining room", "Hallway", "Garage", "Bedroom", "Office", "Bathroom", "Guest room", "Nursery",
        "Laundry", "Basement", "Attic", "Porch", "Garden", "Pantry", "Den", "Library", "Gym", "Studio", "Playroom", "Cellar",
        "Workshop", "Sunroom", "Mudroom",
    ];

    private static readonly (string Domain, string Noun)[] s_kinds =
    [
        ("light", "ceiling light"), ("light", "lamp"), ("light", "spotlights"), ("light", "strip"), ("light", "wall light"),
        ("switch", "socket"), ("switch", "heater"), ("fan", "fan"), ("cover", "blinds"), ("cover", "curtains"),
        ("climate", "thermostat"), ("media_player", "speaker"), ("light", "pendant"), ("switch", "dehumidifier"),
        ("light", "floor lamp"), ("light", "night light"), ("switch", "charger"), ("light", "mirror light"), ("light", "cabinet lights"),
        ("switch", "air purifier"),
    ];

    public static DeviceRegistry Create(int entityCount)
    {
        var floors = new List<Floor> { new("ground", "Ground floor", ["downstairs"]), new("upper", "Upstairs", []), new("lower", "Basement floor", []) };
        var areas = s_rooms.Select((name, i) => new Area(Id(name), name, floors[i % 3].Id, [])).ToList();
        var entities = new List<Entity>();
        for (var i = 0; entities.Count < entityCount; i++)
        {
            var area = areas[i % areas.Count];
            var (domain, noun) = s_kinds[(i / areas.Count) % s_kinds.Length];
            var round = i / (areas.Count * s_kinds.Length);
            var name = $"{area.Name} {noun}{(round > 0 ? $" {round + 1}" : string.Empty)}";
            var attributes = new Dictionary<string, object?>();
            if (domain == "climate")
            {
                attributes["min_temp"] = "7";
                attributes["max_temp"] = "30";
                attributes["current_temperature"] = "20";
            }

            entities.Add(new Entity($"{domain}.{Id(name)}", name, area.Id, [], "off", attributes));
        }

        return new DeviceRegistry(floors, areas, entities);
    }

    private static string Id(string name) => name.ToLowerInvariant().Replace(' ', '_');
}
