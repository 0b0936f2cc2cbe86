using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Core.Devices;

public sealed record Floor(string Id, string Name, IReadOnlyList<string> Aliases);

public sealed record Area(string Id, string Name, string? FloorId, IReadOnlyList<string> Aliases);

/// <summary>How a command reaches an MQTT device: topics and the payloads Home Assistant would send.</summary>
public sealed record MqttBinding(IReadOnlyDictionary<string, string> Settings)
{
    public string? Get(string key) => Settings.TryGetValue(key, out var value) ? value : null;
}

/// <summary>A GPIO line driving (or read by) the entity.</summary>
public sealed record GpioBinding(string Chip, int Line, bool ActiveLow);

/// <summary>A Home Assistant-style entity: <c>domain.object_id</c>, with a name, an area, aliases and state.</summary>
public sealed record Entity(
    string Id,
    string Name,
    string? AreaId,
    IReadOnlyList<string> Aliases,
    string? State,
    IReadOnlyDictionary<string, object?> Attributes,
    MqttBinding? Mqtt = null,
    GpioBinding? Gpio = null,
    string Source = "devices")
{
    public string Domain => Id[..Id.IndexOf('.', StringComparison.Ordinal)];

    public string? DeviceClass => Attributes.TryGetValue("device_class", out var value) ? value?.ToString() : null;

    public double? NumberAttribute(string key) =>
        Attributes.TryGetValue(key, out var value) && value is not null
        && double.TryParse(value.ToString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : null;
}

/// <summary>
/// The home as the hub knows it: floors, areas and entities with their names and aliases, looked
/// up by spoken name. Immutable; a reload builds a new one (and a new <see cref="Version"/>).
/// </summary>
public sealed class DeviceRegistry
{
    private readonly Dictionary<string, Entity> _entities;
    private readonly Dictionary<string, Area> _areas;
    private readonly Dictionary<string, Floor> _floors;

    public DeviceRegistry(IEnumerable<Floor> floors, IEnumerable<Area> areas, IEnumerable<Entity> entities)
    {
        Floors = [.. floors];
        Areas = [.. areas];
        Entities = [.. entities];
        _floors = Floors.ToDictionary(f => f.Id, StringComparer.Ordinal);
        _areas = Areas.ToDictionary(a => a.Id, StringComparer.Ordinal);
        _entities = Entities.ToDictionary(e => e.Id, StringComparer.Ordinal);
        Version = ComputeVersion();
    }

    public static DeviceRegistry Empty { get; } = new([], [], []);

    public IReadOnlyList<Floor> Floors { get; }

    public IReadOnlyList<Area> Areas { get; }

    public IReadOnlyList<Entity> Entities { get; }

    /// <summary>A fingerprint of everything prompts and grammars are built from; changes when the home changes.</summary>
    public string Version { get; }

    public Entity? FindEntity(string id) => _entities.GetValueOrDefault(id);

    public Area? FindArea(string id) => _areas.GetValueOrDefault(id);

    public Floor? FindFloor(string id) => _floors.GetValueOrDefault(id);

    public Area? AreaOf(Entity entity) => entity.AreaId is null ? null : FindArea(entity.AreaId);

    public Floor? FloorOf(Area area) => area.FloorId is null ? null : FindFloor(area.FloorId);

    /// <summary>An area by its name or an alias, spoken form.</summary>
    public Area? FindAreaByName(string name)
    {
        var normalized = TextNormalizer.Normalize(name);
        return Areas.FirstOrDefault(a => TextNormalizer.Normalize(a.Name) == normalized || a.Aliases.Any(x => TextNormalizer.Normalize(x) == normalized));
    }

    public Floor? FindFloorByName(string name)
    {
        var normalized = TextNormalizer.Normalize(name);
        return Floors.FirstOrDefault(f => TextNormalizer.Normalize(f.Name) == normalized || f.Aliases.Any(x => TextNormalizer.Normalize(x) == normalized));
    }

    public IEnumerable<Entity> InArea(string areaId) => Entities.Where(e => e.AreaId == areaId);

    public IEnumerable<Entity> OnFloor(string floorId) => Entities.Where(e => e.AreaId is not null && FindArea(e.AreaId)?.FloorId == floorId);

    /// <summary>A registry with the given entities added or replaced (by id), e.g. from MQTT discovery.</summary>
    public DeviceRegistry With(IEnumerable<Entity> entities)
    {
        var merged = new Dictionary<string, Entity>(_entities, StringComparer.Ordinal);
        foreach (var entity in entities)
        {
            merged[entity.Id] = entity;
        }

        return new DeviceRegistry(Floors, Areas, merged.Values);
    }

    public DeviceRegistry Without(IEnumerable<string> entityIds)
    {
        var removed = entityIds.ToHashSet(StringComparer.Ordinal);
        return new DeviceRegistry(Floors, Areas, Entities.Where(e => !removed.Contains(e.Id)));
    }

    private string ComputeVersion()
    {
        var hash = new HashCode();
        foreach (var f in Floors)
        {
            hash.Add(f.Id);
            hash.Add(f.Name);
            foreach (var alias in f.Aliases)
            {
                hash.Add(alias);
            }
        }

        foreach (var a in Areas)
        {
            hash.Add(a.Id);
            hash.Add(a.Name);
            hash.Add(a.FloorId);
            foreach (var alias in a.Aliases)
            {
                hash.Add(alias);
            }
        }

        foreach (var e in Entities.OrderBy(e => e.Id, StringComparer.Ordinal))
        {
            hash.Add(e.Id);
            hash.Add(e.Name);
            hash.Add(e.AreaId);
            foreach (var alias in e.Aliases)
            {
                hash.Add(alias);
            }
        }

        return hash.ToHashCode().ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }
}
