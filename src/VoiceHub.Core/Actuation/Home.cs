using Microsoft.Extensions.Logging;
using VoiceHub.Core.Intents.Registry;

namespace VoiceHub.Core.Actuation;

/// <summary>
/// The home as the hub acts on it: the devices file merged with what MQTT discovery announced.
/// The devices file wins where both know an entity (same id, or same command topic): its names,
/// area and aliases are what users curated; discovery fills in how to reach it. Discovered
/// entities take the area Home Assistant would suggest when the devices file has one by that name,
/// or a new area of that name. Every change makes a new immutable <see cref="DeviceRegistry"/>.
/// </summary>
public sealed partial class Home
{
    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly int _maxPayloadBytes;
    private readonly string? _ownNodeId;
    private readonly Dictionary<string, DiscoveredEntity> _discovered = new(StringComparer.Ordinal);
    private DeviceRegistry _file;
    private DeviceRegistry _current;

    public Home(DeviceRegistry devicesFile, ILogger logger, string discoveryPrefix = "homeassistant", int maxDiscoveryPayloadBytes = 65536, string? ownNodeId = null)
    {
        _ownNodeId = ownNodeId;
        _file = devicesFile;
        _current = devicesFile;
        _logger = logger;
        _prefix = discoveryPrefix;
        _maxPayloadBytes = maxDiscoveryPayloadBytes;
    }

    /// <summary>The merged registry now.</summary>
    public DeviceRegistry Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Raised after the merged registry changed (outside the lock).</summary>
    public event Action<DeviceRegistry>? Changed;

    /// <summary>Discovery messages skipped, for health and tests.</summary>
    public int SkippedDiscoveryMessages { get; private set; }

    /// <summary>The subscription that receives every discovery config.</summary>
    public string DiscoverySubscription => $"{_prefix}/#";

    /// <summary>The devices file was reloaded.</summary>
    public void ReplaceDevicesFile(DeviceRegistry devicesFile)
    {
        DeviceRegistry merged;
        lock (_lock)
        {
            _file = devicesFile;
            merged = _current = Merge();
        }

        Changed?.Invoke(merged);
    }

    /// <summary>
    /// Takes one message under the discovery prefix. Returns false when it was not a discovery
    /// config or was skipped (with one warning naming the topic and the reason).
    /// </summary>
    public bool ApplyDiscovery(string topic, ReadOnlySpan<byte> payload)
    {
        if (DiscoveryTopic.TryParse(_prefix, topic) is not { } where || (where.NodeId is not null && where.NodeId == _ownNodeId))
        {
            return false; // not a config, or the hub's own announcement
        }

        DeviceRegistry merged;
        lock (_lock)
        {
            var previous = _discovered.Where(kv => kv.Key == topic || kv.Key.StartsWith(topic + "#", StringComparison.Ordinal)).Select(kv => kv.Key).ToList();
            if (payload.IsEmpty)
            {
                if (previous.Count == 0)
                {
                    return false;
                }

                previous.ForEach(key => _discovered.Remove(key));
                LogRemoved(_logger, topic);
            }
            else
            {
                IReadOnlyList<DiscoveredEntity> entities;
                try
                {
                    entities = DiscoveryParser.Parse(topic, where, payload, _maxPayloadBytes);
                }
                catch (DiscoveryException e)
                {
                    Skip(e.Message);
                    return false;
                }

                if (entities.Count == 0 && previous.Count == 0)
                {
                    return false; // a component the hub has no use for (a camera, an update entity)
                }

                // One entity id per discovery topic: a second config claiming an id is refused.
                var duplicate = entities.FirstOrDefault(e => _discovered.Any(kv => kv.Value.Entity.Id == e.Entity.Id && kv.Key != e.DiscoveryTopic));
                if (duplicate is not null)
                {
                    var owner = _discovered.First(kv => kv.Value.Entity.Id == duplicate.Entity.Id).Key;
                    Skip($"{topic}: entity id {duplicate.Entity.Id} is already announced by {owner}");
                    return false;
                }

                previous.ForEach(key => _discovered.Remove(key));
                foreach (var entity in entities)
                {
                    _discovered[entity.DiscoveryTopic] = entity;
                }
            }

            merged = _current = Merge();
        }

        Changed?.Invoke(merged);
        return true;
    }

    private void Skip(string message)
    {
        SkippedDiscoveryMessages++;
        LogSkipped(_logger, message);
    }

    private DeviceRegistry Merge()
    {
        var fileByCommandTopic = _file.Entities
            .Where(e => e.Mqtt?.Get("command_topic") is not null)
            .GroupBy(e => e.Mqtt!.Get("command_topic")!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var areas = _file.Areas.ToList();
        var merged = _file.Entities.ToDictionary(e => e.Id, StringComparer.Ordinal);
        foreach (var found in _discovered.Values.OrderBy(d => d.DiscoveryTopic, StringComparer.Ordinal))
        {
            var entity = found.Entity;
            var known = merged.GetValueOrDefault(entity.Id)
                ?? (entity.Mqtt?.Get("command_topic") is { } topic ? fileByCommandTopic.GetValueOrDefault(topic) : null);
            if (known is not null && known.Source != "mqtt")
            {
                // Curated names win; discovery supplies the binding and what the device can do.
                var attributes = new Dictionary<string, object?>(entity.Attributes, StringComparer.Ordinal);
                foreach (var (key, value) in known.Attributes)
                {
                    attributes[key] = value;
                }

                merged[known.Id] = known with { Mqtt = known.Mqtt ?? entity.Mqtt, Attributes = attributes };
                continue;
            }

            string? areaId = null;
            if (found.SuggestedArea is { } suggested)
            {
                var area = areas.FirstOrDefault(a => string.Equals(a.Name, suggested, StringComparison.OrdinalIgnoreCase) || a.Aliases.Any(x => string.Equals(x, suggested, StringComparison.OrdinalIgnoreCase)));
                if (area is null)
                {
                    area = new Area(DiscoveryParser.Slug(suggested), suggested, null, []);
                    if (area.Id.Length > 0 && areas.All(a => a.Id != area.Id))
                    {
                        areas.Add(area);
                    }
                }

                areaId = area.Id.Length > 0 ? area.Id : null;
            }

            merged[entity.Id] = entity with { AreaId = areaId };
        }

        return new DeviceRegistry(_file.Floors, areas, merged.Values);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped discovery config {Problem}")]
    private static partial void LogSkipped(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovery removed {Topic}")]
    private static partial void LogRemoved(ILogger logger, string topic);
}
