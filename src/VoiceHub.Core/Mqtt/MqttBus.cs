using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Configuration;
using VoiceHub.Native.Mqtt;

namespace VoiceHub.Core.Mqtt;

public enum CommandOutcome
{
    /// <summary>The broker acknowledged it (PUBACK at QoS 1, PUBCOMP at QoS 2).</summary>
    Delivered,

    /// <summary>Not delivered within the expiry time: dropped and reported.</summary>
    Expired,

    /// <summary>Still undelivered at shutdown: written to the outbox file for the next start.</summary>
    KeptForRestart,

    /// <summary>Still undelivered at shutdown and no outbox file is configured.</summary>
    Abandoned,
}

/// <summary>What became of a command sent through the outbox.</summary>
public sealed record CommandReceipt(long Id, string Topic, CommandOutcome Outcome, TimeSpan Latency);

/// <summary>The state of the link to the broker, for health and doctor.</summary>
public sealed record MqttHealth(bool Connected, int Pending, int InFlight, long Delivered, long Expired, int Connections, string Detail);

/// <summary>
/// The hub's MQTT connection. Commands go through an outbox: sent at the command QoS (2 by
/// default) when connected, kept while the broker is away and sent on reconnect, and dropped with
/// a <see cref="CommandExpired"/> event when they would arrive too late. The session is persistent,
/// so a command half-delivered when the broker went away is completed by libmosquitto after the
/// reconnect against the broker's stored session: with QoS 2, exactly once. State publications
/// are best effort; retained ones are re-sent on every connection, as are subscriptions. On
/// shutdown the outbox is flushed for a moment, and what is left is written to disk for the next start.
/// </summary>
public sealed partial class MqttBus : IAsyncDisposable
{
    private static readonly TimeSpan s_flushOnShutdown = TimeSpan.FromSeconds(2);
    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly LinkedList<Item> _pending = new();
    private readonly Dictionary<int, Item> _inFlight = [];
    private readonly HashSet<string> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _retained = new(StringComparer.Ordinal);
    // Room for a whole home announcing itself at once (a bridge restart publishes every discovery config
    // in a burst): messages are dropped only past this, and that is said once.
    private const int IncomingCapacity = 65536;
    private readonly Channel<MqttMessage> _incoming = Channel.CreateBounded<MqttMessage>(new BoundedChannelOptions(IncomingCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private int _incomingDropWarned;
    private readonly CancellationTokenSource _stop = new();
    private MosquittoClient? _client;
    private Task? _dispatcher;
    private ITimer? _expiryTimer;
    private long _nextId;
    private long _delivered;
    private long _expired;
    private int _connections;
    private string _detail = "not started";
    private string? _refused;
    private bool _unreachableLogged;
    private DateTimeOffset _connectedAt;
    private DateTimeOffset _disconnectedAt;

    public MqttBus(MqttOptions options, ILogger logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Topics of this hub: <c>voicehub/&lt;hub_id&gt;</c>.</summary>
    public string BaseTopic => $"voicehub/{_options.HubId}";

    public string AvailabilityTopic => $"{BaseTopic}/availability";

    public bool IsConnected => _client?.IsConnected == true;

    /// <summary>A message arrived on a subscribed topic (raised on the bus's dispatch task, in order).</summary>
    public event Action<MqttMessage>? MessageReceived;

    /// <summary>The broker (re)connected (raised on the thread pool).</summary>
    public event Action? Connected;

    /// <summary>A command was not delivered in time and will not be.</summary>
    public event Action<CommandReceipt>? CommandExpired;

    public MqttHealth Health
    {
        get
        {
            lock (_lock)
            {
                return new MqttHealth(IsConnected, _pending.Count, _inFlight.Count, _delivered, _expired, _connections, _detail);
            }
        }
    }

    /// <summary>Commands still undelivered at shutdown that could not be kept for the next start.</summary>
    public int LostAtShutdown { get; private set; }

    public void Start()
    {
        CheckOutboxWritable();
        LoadPersistedOutbox();
        _client = new MosquittoClient(new MqttConnectionSettings
        {
            ClientId = $"voicehub-{_options.HubId}",
            Host = _options.Host,
            Port = _options.Port,
            ProtocolVersion = _options.ProtocolVersion,
            KeepAlive = _options.KeepAlive,
            Username = string.IsNullOrEmpty(_options.Username) ? null : _options.Username,
            Password = _options.Password,
            CaFile = string.IsNullOrEmpty(_options.CaFile) ? null : _options.CaFile,
            CertificateFile = string.IsNullOrEmpty(_options.CertificateFile) ? null : _options.CertificateFile,
            KeyFile = string.IsNullOrEmpty(_options.KeyFile) ? null : _options.KeyFile,
            Will = (AvailabilityTopic, "offline"),
            CleanSession = false, // the broker keeps subscriptions and half-delivered commands across restarts
            MaxReconnectDelay = _options.MaxReconnectDelay,
        });
        _client.Connected += OnConnected;
        _client.Disconnected += OnDisconnected;
        _client.ConnectFailed += code =>
        {
            bool first;
            lock (_lock)
            {
                _detail = _refused ?? $"cannot reach {_options.Host}:{_options.Port} ({MosquittoClient.Error(code)}); retrying";
                first = !_unreachableLogged;
                _unreachableLogged = true;
            }

            if (first && _refused is null)
            {
                LogUnreachable(_logger, _options.Host, _options.Port, MosquittoClient.Error(code)); // once per outage, not per retry
            }
        };
        _client.Published += OnPublished;
        _client.MessageReceived += message =>
        {
            if (_incoming.Reader.Count >= IncomingCapacity - 1 && Interlocked.Exchange(ref _incomingDropWarned, 1) == 0)
            {
                LogIncomingOverflow(_logger, IncomingCapacity);
            }

            _incoming.Writer.TryWrite(message);
        };
        _dispatcher = Task.Run(DispatchAsync);
        _expiryTimer = _clock.CreateTimer(_ => ExpireOld(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
        _client.Start();
    }

    /// <summary>Subscribes now and after every reconnection.</summary>
    public void Subscribe(string pattern)
    {
        lock (_lock)
        {
            _subscriptions.Add(pattern);
        }

        _client?.Subscribe(pattern, 1);
    }

    /// <summary>Sends a device command through the outbox; the task completes when the broker has it, or when it expires.</summary>
    public Task<CommandReceipt> SendCommandAsync(string topic, string payload, bool retain = false)
    {
        var item = new Item(Interlocked.Increment(ref _nextId), topic, Encoding.UTF8.GetBytes(payload), retain, _clock.GetUtcNow(), _clock.GetUtcNow() + _options.CommandExpiry);
        lock (_lock)
        {
            _pending.AddLast(item);
        }

        SendPending();
        return item.Receipt.Task;
    }

    /// <summary>Publishes a state or an announcement, best effort; a retained one is repeated on every connection.</summary>
    public void PublishState(string topic, string payload, bool retain)
    {
        var bytes = Encoding.UTF8.GetBytes(payload);
        if (retain)
        {
            lock (_lock)
            {
                _retained[topic] = bytes;
            }
        }

        if (_client?.IsConnected == true)
        {
            try
            {
                _client.Publish(topic, bytes, 0, retain);
            }
            catch (Native.NativeEngineException e)
            {
                LogPublishFailed(_logger, topic, e.Message);
            }
        }
    }

    private void OnConnected(int code)
    {
        if (code != 0)
        {
            lock (_lock)
            {
                _refused = $"broker refused the connection: {MosquittoClient.Refusal(code)}";
                _detail = _refused;
            }

            LogRefused(_logger, _options.Host, _options.Port, MosquittoClient.Refusal(code));
            return;
        }

        string[] subscriptions;
        KeyValuePair<string, byte[]>[] retained;
        lock (_lock)
        {
            _connections++;
            _refused = null;
            _unreachableLogged = false;
            _connectedAt = _clock.GetUtcNow();
            _detail = $"connected to {_options.Host}:{_options.Port}";
            subscriptions = [.. _subscriptions];
            retained = [.. _retained];
        }

        LogConnected(_logger, _options.Host, _options.Port);
        foreach (var subscription in subscriptions)
        {
            _client!.Subscribe(subscription, 1);
        }

        _client!.Publish(AvailabilityTopic, "online"u8, 1, true);
        foreach (var (topic, payload) in retained)
        {
            _client.Publish(topic, payload, 0, true);
        }

        SendPending();
        // Off the network thread: a handler that blocks must not stall the connection.
        ThreadPool.UnsafeQueueUserWorkItem(_ => Connected?.Invoke(), null);
    }

    private void OnDisconnected(int code)
    {
        lock (_lock)
        {
            _detail = _refused is not null ? _refused + "; retrying"
                : code == 0 ? "disconnected"
                : $"connection lost ({MosquittoClient.Error(code)}); reconnecting";
            _disconnectedAt = _clock.GetUtcNow();
        }

        if (code != 0 && _refused is null)
        {
            LogLost(_logger, _options.Host, _options.Port);
        }
    }

    private void OnPublished(int mid)
    {
        Item? item;
        lock (_lock)
        {
            if (!_inFlight.Remove(mid, out item))
            {
                return;
            }

            _delivered++;
        }

        item.Receipt.TrySetResult(new CommandReceipt(item.Id, item.Topic, CommandOutcome.Delivered, _clock.GetUtcNow() - item.Created));
    }

    private void SendPending()
    {
        lock (_lock)
        {
            while (_client?.IsConnected == true && _pending.First is { } node)
            {
                var item = node.Value;
                int? mid;
                try
                {
                    mid = _client.Publish(item.Topic, item.Payload, _options.CommandQos, item.Retain);
                }
                catch (Native.NativeEngineException e)
                {
                    LogPublishFailed(_logger, item.Topic, e.Message);
                    return;
                }

                if (mid is null)
                {
                    return; // the connection went away: keep it for the next one
                }

                _pending.RemoveFirst();
                item.Sent = _clock.GetUtcNow();
                _inFlight[mid.Value] = item;
            }
        }
    }

    private void ExpireOld()
    {
        var now = _clock.GetUtcNow();
        var expired = new List<Item>();
        lock (_lock)
        {
            for (var node = _pending.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.Expires <= now)
                {
                    expired.Add(node.Value);
                    _pending.Remove(node);
                    _expired++;
                }

                node = next;
            }
        }

        foreach (var item in expired)
        {
            var receipt = new CommandReceipt(item.Id, item.Topic, CommandOutcome.Expired, now - item.Created);
            LogExpired(_logger, item.Topic, receipt.Latency.TotalSeconds);
            item.Receipt.TrySetResult(receipt);
            CommandExpired?.Invoke(receipt);
        }
    }

    private async Task DispatchAsync()
    {
        try
        {
            await foreach (var message in _incoming.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    MessageReceived?.Invoke(message);
                }
#pragma warning disable CA1031 // one bad handler or message must not stop the others
                catch (Exception e)
                {
                    LogHandlerFailed(_logger, message.Topic, e.Message);
                }
#pragma warning restore CA1031
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Says at start, not at shutdown, that queued commands could not survive a restart.</summary>
    private void CheckOutboxWritable()
    {
        if (string.IsNullOrEmpty(_options.OutboxFile))
        {
            return;
        }

        var probe = _options.OutboxFile + ".probe";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_options.OutboxFile))!);
            File.WriteAllText(probe, string.Empty);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogOutboxNotWritable(_logger, _options.OutboxFile, e.Message);
        }
    }

    private void LoadPersistedOutbox()
    {
        if (string.IsNullOrEmpty(_options.OutboxFile) || !File.Exists(_options.OutboxFile))
        {
            return;
        }

        var now = _clock.GetUtcNow();
        var restored = 0;
        string[] lines;
        try
        {
            lines = File.ReadAllLines(_options.OutboxFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogOutboxUnreadable(_logger, _options.OutboxFile, e.Message);
            return;
        }

        foreach (var line in lines)
        {
            try
            {
                var saved = JsonSerializer.Deserialize<Saved>(line);
                if (saved is not null && saved.Expires > now)
                {
                    _pending.AddLast(new Item(Interlocked.Increment(ref _nextId), saved.Topic, Convert.FromBase64String(saved.Payload), saved.Retain, saved.Created, saved.Expires));
                    restored++;
                }
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                LogBadOutboxLine(_logger, _options.OutboxFile);
            }
        }

        try
        {
            File.Delete(_options.OutboxFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // CheckOutboxWritable has said so; at worst the restored commands are sent again after the next restart
        }

        if (restored > 0)
        {
            LogRestored(_logger, restored, _options.OutboxFile);
        }
    }

    private void PersistOutbox()
    {
        List<Item> left;
        lock (_lock)
        {
            left = [.. _inFlight.Values.OrderBy(i => i.Id), .. _pending];
        }

        if (left.Count == 0)
        {
            return;
        }

        var kept = false;
        if (!string.IsNullOrEmpty(_options.OutboxFile))
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_options.OutboxFile))!);
                File.WriteAllLines(_options.OutboxFile, left.Select(i => JsonSerializer.Serialize(new Saved(i.Topic, Convert.ToBase64String(i.Payload), i.Retain, i.Created, i.Expires))));
                kept = true;
                LogPersisted(_logger, left.Count, _options.OutboxFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogPersistFailed(_logger, left.Count, _options.OutboxFile, e.Message);
            }
        }
        else
        {
            LogAbandoned(_logger, left.Count);
        }

        LostAtShutdown = kept ? 0 : left.Count;

        var now = _clock.GetUtcNow();
        foreach (var item in left)
        {
            item.Receipt.TrySetResult(new CommandReceipt(item.Id, item.Topic, kept ? CommandOutcome.KeptForRestart : CommandOutcome.Abandoned, now - item.Created));
        }
    }

    public async ValueTask DisposeAsync()
    {
        var deadline = _clock.GetUtcNow() + s_flushOnShutdown;
        while (_clock.GetUtcNow() < deadline && IsConnected && Health is { Pending: > 0 } or { InFlight: > 0 })
        {
            await Task.Delay(50).ConfigureAwait(false);
        }

        PersistOutbox();
        if (_client is { IsConnected: true })
        {
            _client.Publish(AvailabilityTopic, "offline"u8, 1, true);
        }

        if (_expiryTimer is not null)
        {
            await _expiryTimer.DisposeAsync().ConfigureAwait(false);
        }

        _client?.Dispose();
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_dispatcher is not null)
        {
            await _dispatcher.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private sealed record Item(long Id, string Topic, byte[] Payload, bool Retain, DateTimeOffset Created, DateTimeOffset Expires)
    {
        public TaskCompletionSource<CommandReceipt> Receipt { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public DateTimeOffset Sent { get; set; }
    }

    private sealed record Saved(string Topic, string Payload, bool Retain, DateTimeOffset Created, DateTimeOffset Expires);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connected to {Host}:{Port}")]
    private static partial void LogConnected(ILogger logger, string host, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT broker {Host}:{Port} refused the connection: {Reason}")]
    private static partial void LogRefused(ILogger logger, string host, int port, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT broker {Host}:{Port} cannot be reached ({Reason}); retrying, commands wait in the outbox")]
    private static partial void LogUnreachable(ILogger logger, string host, int port, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "More than {Capacity} MQTT messages are waiting to be handled: the oldest are being dropped (is something flooding the broker?)")]
    private static partial void LogIncomingOverflow(ILogger logger, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT connection to {Host}:{Port} lost; reconnecting")]
    private static partial void LogLost(ILogger logger, string host, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Command to {Topic} expired after {Seconds:0.0} s without a broker: not sent")]
    private static partial void LogExpired(ILogger logger, string topic, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing to {Topic} failed: {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling a message on {Topic} failed: {Reason}")]
    private static partial void LogHandlerFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an unreadable line of the outbox file {File}")]
    private static partial void LogBadOutboxLine(ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored {Count} undelivered command(s) from {File}")]
    private static partial void LogRestored(ILogger logger, int count, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} undelivered command(s) dropped at shutdown (set mqtt.outboxFile to keep them)")]
    private static partial void LogAbandoned(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The outbox {File} cannot be written ({Reason}): commands queued while the broker is away are kept in memory only and lost if the hub stops")]
    private static partial void LogOutboxNotWritable(ILogger logger, string file, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The outbox {File} from the last run cannot be read ({Reason}); its commands are not sent")]
    private static partial void LogOutboxUnreadable(ILogger logger, string file, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} undelivered command(s) lost at shutdown: the outbox {File} cannot be written ({Reason})")]
    private static partial void LogPersistFailed(ILogger logger, int count, string file, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kept {Count} undelivered command(s) in {File} for the next start")]
    private static partial void LogPersisted(ILogger logger, int count, string file);
}
