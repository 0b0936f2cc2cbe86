using Microsoft.Extensions.Logging;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.HomeAssistant;

namespace VoiceHub.Core.Devices;

/// <summary>
/// The home as the hub acts on it: the devices file merged with what MQTT discovery announced.
/// The devices file wins where both know an entity (same id, or same command topic): its names,
/// area and aliases are what users curated; discovery fills in how to reach it. Discovered
/// entities take the area Home Assistant would suggest when the devices file has one by that name,
/// or a new area of that name. Every change makes a new immutable <see cref="DeviceRegistry"/>.
/// </summary>
public sealed partial class Home : IDisposable
{
    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly int _maxPayloadBytes;
    private readonly string? _ownNodeId;
    private readonly int _maxEntities;
    private readonly TimeSpan _coalescing;
    private readonly ITimer _changeTimer;
    private readonly Dictionary<string, DiscoveredEntity> _discovered = new(StringComparer.Ordinal);
    // Indexes over _discovered, so a flood of configs costs O(1) each rather than a scan of the home.
    private readonly Dictionary<string, List<string>> _keysByTopic = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keyByEntityId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _digestByTopic = new(StringComparer.Ordinal); // of the config each topic's entities came from
    private DeviceRegistry _file;
    private DeviceRegistry _current;
    private bool _dirty;
    private bool _changePending;
    private bool _capWarned;

    public Home(DeviceRegistry devicesFile, ILogger logger, string discoveryPrefix = "homeassistant", int maxDiscoveryPayloadBytes = 65536, string? ownNodeId = null,
        int maxDiscoveredEntities = 10000, TimeSpan? discoveryCoalescing = null, TimeProvider? clock = null)
    {
        _ownNodeId = ownNodeId;
        _file = devicesFile;
        _current = devicesFile;
        _logger = logger;
        _prefix = discoveryPrefix;
        _maxPayloadBytes = maxDiscoveryPayloadBytes;
        _maxEntities = maxDiscoveredEntities;
        _coalescing = discoveryCoalescing ?? TimeSpan.FromSeconds(2);
        _changeTimer = (clock ?? TimeProvider.System).CreateTimer(_ => RaiseCoalescedChange(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The merged registry now (merged on demand after discovery changes).</summary>
    public DeviceRegistry Current
    {
        get
        {
            lock (_lock)
            {
                if (_dirty)
                {
                    _current = Merge();
                    _dirty = false;
                }

                return _current;
            }
        }
    }

    /// <summary>Entities discovery has added, for health and tests.</summary>
    public int DiscoveredCount
    {
        get
        {
            lock (_lock)
            {
                return _discovered.Count;
            }
        }
    }

    /// <summary>
    /// Raised after the merged registry changed (outside the lock, on a timer thread): at once for a
    /// devices file reload, and at most once per coalescing window for discovery, however many configs arrive.
    /// </summary>
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
            _dirty = false;
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

        lock (_lock)
        {
            var previous = _keysByTopic.TryGetValue(topic, out var keys) ? keys : [];
            if (payload.IsEmpty)
            {
                if (previous.Count == 0)
                {
                    return false;
                }

                RemoveTopic(topic);
                LogRemoved(_logger, topic);
            }
            else
            {
                // Every reconnect makes the broker send every retained config again: one unchanged is
                // no change (else each Wi-Fi blip would rebuild the speech models).
                var digest = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(payload));
                if (previous.Count > 0 && _digestByTopic.GetValueOrDefault(topic) == digest)
                {
                    return true;
                }

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
                var duplicate = entities.FirstOrDefault(e => _keyByEntityId.TryGetValue(e.Entity.Id, out var key) && key != e.DiscoveryTopic);
                if (duplicate is not null)
                {
                    Skip($"{topic}: entity id {duplicate.Entity.Id} is already announced by {_keyByEntityId[duplicate.Entity.Id]}");
                    return false;
                }

                if (_discovered.Count - previous.Count + entities.Count > _maxEntities)
                {
                    SkippedDiscoveryMessages++;
                    if (!_capWarned)
                    {
                        _capWarned = true; // once: a flood past the cap would otherwise log thousands of lines
                        LogCapReached(_logger, _maxEntities, topic);
                    }

                    return false;
                }

                RemoveTopic(topic);
                foreach (var entity in entities)
                {
                    _discovered[entity.DiscoveryTopic] = entity;
                    _keyByEntityId[entity.Entity.Id] = entity.DiscoveryTopic;
                }

                _keysByTopic[topic] = [.. entities.Select(e => e.DiscoveryTopic)];
                _digestByTopic[topic] = digest;
            }

            _dirty = true;
            if (!_changePending)
            {
                _changePending = true;
                _changeTimer.Change(_coalescing, Timeout.InfiniteTimeSpan);
            }
        }

        return true;
    }

    /// <summary>Merges and raises <see cref="Changed"/> now for discovery changes still waiting for their window.</summary>
    public void FlushChanges() => RaiseCoalescedChange();

    private void RaiseCoalescedChange()
    {
        lock (_lock)
        {
            if (!_changePending)
            {
                return;
            }

            _changePending = false;
            _changeTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        var merged = Current;
        try
        {
            Changed?.Invoke(merged);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogChangeHandlerFailed(_logger, e); // on a timer thread: an exception here would end the process
        }
    }

    private void RemoveTopic(string topic)
    {
        _digestByTopic.Remove(topic);
        if (!_keysByTopic.Remove(topic, out var keys))
        {
            return;
        }

        foreach (var key in keys)
        {
            if (_discovered.Remove(key, out var gone) && _keyByEntityId.TryGetValue(gone.Entity.Id, out var owner) && owner == key)
            {
                _keyByEntityId.Remove(gone.Entity.Id);
            }
        }
    }

    public void Dispose() => _changeTimer.Dispose();

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
        var areaByName = new Dictionary<string, Area>(StringComparer.OrdinalIgnoreCase);
        foreach (var area in areas)
        {
            foreach (var name in area.Aliases.Prepend(area.Name))
            {
                areaByName.TryAdd(name, area);
            }
        }

        var areaIds = areas.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
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
                if (!areaByName.TryGetValue(suggested, out var area))
                {
                    area = new Area(DiscoveryParser.Slug(suggested), suggested, null, []);
                    if (area.Id.Length > 0 && areaIds.Add(area.Id))
                    {
                        areas.Add(area);
                        areaByName.TryAdd(suggested, area);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Discovery: the home has reached its cap of {Max} discovered entities; {Topic} and later new configs are ignored (raise mqtt.maxDiscoveredEntities if this home is really that large)")]
    private static partial void LogCapReached(ILogger logger, int max, string topic);

    [LoggerMessage(Level = LogLevel.Error, Message = "Applying a new home failed; the previous one stays")]
    private static partial void LogChangeHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Discovery removed {Topic}")]
    private static partial void LogRemoved(ILogger logger, string topic);
}
