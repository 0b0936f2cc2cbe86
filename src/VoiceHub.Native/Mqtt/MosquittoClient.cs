using System.Runtime.InteropServices;
using static VoiceHub.Native.Interop.Mosquitto;

namespace VoiceHub.Native.Mqtt;

/// <summary>How to reach the broker.</summary>
public sealed record MqttConnectionSettings
{
    public required string ClientId { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; } = 1883;

    /// <summary>5 (MQTT 5) or 4 (MQTT 3.1.1).</summary>
    public int ProtocolVersion { get; init; } = 5;

    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>CA certificate (PEM) that signs the broker's certificate; set to use TLS.</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate and key (PEM), for brokers that authenticate clients by certificate.</summary>
    public string? CertificateFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>Published by the broker when the connection is lost without a goodbye (last will).</summary>
    public (string Topic, string Payload)? Will { get; init; }

    /// <summary>
    /// False keeps the session (subscriptions, queued and half-delivered QoS 1/2 messages) on the
    /// broker across reconnections and broker restarts; with MQTT 5 for <see cref="SessionExpiry"/>.
    /// </summary>
    public bool CleanSession { get; init; } = true;

    /// <summary>How long an MQTT 5 broker keeps a persistent session of a client that went away.</summary>
    public TimeSpan SessionExpiry { get; init; } = TimeSpan.FromDays(1);

    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>A message as it arrived.</summary>
public sealed record MqttMessage(string Topic, byte[] Payload, int Qos, bool Retain);

/// <summary>
/// An MQTT client on libmosquitto, driven by a network thread of its own that waits with poll():
/// it connects, keeps alive, and reconnects with exponential backoff. (libmosquitto's own loop
/// thread waits with select(), which aborts the process when a descriptor is above 1023 or the
/// socket closes under it.) Other threads only queue packets and wake the thread through an
/// eventfd. Events are raised on the network thread and must return quickly. Publishing needs a
/// connection; callers that must not lose messages keep an outbox (VoiceHub's is in the
/// actuation layer) and resend on <see cref="Connected"/>.
/// </summary>
public sealed unsafe class MosquittoClient : IDisposable
{
    private static readonly Lazy<bool> s_library = new(() => mosquitto_lib_init() == MOSQ_ERR_SUCCESS);

    private readonly MosquittoHandle _client;
    private readonly int _wake = -1;
    private GCHandle _self;
    private volatile bool _connected;
    private volatile bool _stopping;
    private Thread? _network;

    public MosquittoClient(MqttConnectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        if (!s_library.Value)
        {
            throw new NativeEngineException("mosquitto", "mosquitto_lib_init", -1, "libmosquitto could not initialize");
        }

        _self = GCHandle.Alloc(this, GCHandleType.Weak);
        _client = MosquittoHandle.Create(settings.ClientId, settings.CleanSession, GCHandle.ToIntPtr(_self));
        _wake = Interop.Libc.eventfd(0, Interop.Libc.EFD_CLOEXEC | Interop.Libc.EFD_NONBLOCK);
        try
        {
            if (_wake < 0)
            {
                throw new NativeEngineException("libc", "eventfd", Marshal.GetLastPInvokeError(), "could not create the MQTT thread's wake-up descriptor");
            }

            Check(mosquitto_threaded_set(_client, true), "mosquitto_threaded_set");
            Check(mosquitto_int_option(_client, MOSQ_OPT_PROTOCOL_VERSION, settings.ProtocolVersion), "mosquitto_int_option");
            if (settings.Username is not null)
            {
                Check(mosquitto_username_pw_set(_client, settings.Username, settings.Password), "mosquitto_username_pw_set");
            }

            if (settings.CaFile is not null)
            {
                foreach (var file in new[] { settings.CaFile, settings.CertificateFile, settings.KeyFile }.OfType<string>())
                {
                    if (!File.Exists(file))
                    {
                        throw new FileNotFoundException($"{file}: TLS file not found", file);
                    }
                }

                Check(mosquitto_tls_set(_client, settings.CaFile, null, settings.CertificateFile, settings.KeyFile, 0), "mosquitto_tls_set");
            }

            if (settings.Will is { } will)
            {
                var payload = System.Text.Encoding.UTF8.GetBytes(will.Payload);
                fixed (byte* p = payload)
                {
                    Check(mosquitto_will_set(_client, will.Topic, payload.Length, p, 1, true), "mosquitto_will_set");
                }
            }

            mosquitto_connect_callback_set(_client, &OnConnect);
            mosquitto_disconnect_callback_set(_client, &OnDisconnect);
            mosquitto_publish_callback_set(_client, &OnPublish);
            mosquitto_message_callback_set(_client, &OnMessage);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public MqttConnectionSettings Settings { get; }

    public bool IsConnected => _connected;

    /// <summary>Connected (result code 0) or refused (the CONNACK code); raised on every (re)connection.</summary>
    public event Action<int>? Connected;

    /// <summary>A connection attempt failed (a libmosquitto error: host unknown, refused, TLS); retried after a backoff.</summary>
    public event Action<int>? ConnectFailed;

    /// <summary>The connection is gone (0: we asked for it); the network thread reconnects.</summary>
    public event Action<int>? Disconnected;

    /// <summary>A QoS 1 message was acknowledged by the broker (its message id).</summary>
    public event Action<int>? Published;

    public event Action<MqttMessage>? MessageReceived;

    public static string Version
    {
        get
        {
            int major, minor, revision;
            _ = mosquitto_lib_version(&major, &minor, &revision);
            return $"{major}.{minor}.{revision}";
        }
    }

    /// <summary>Starts connecting in the background; the network thread retries until <see cref="Dispose"/>.</summary>
    public void Start()
    {
        _network = new Thread(RunNetwork) { IsBackground = true, Name = $"mqtt {Settings.ClientId}" };
        _network.Start();
    }

    /// <summary>Connects, serves the socket, and reconnects with exponential backoff until stopped.</summary>
    private void RunNetwork()
    {
        var delay = Settings.ReconnectDelay;
        while (!_stopping)
        {
            var result = Connect();
            if (result == MOSQ_ERR_SUCCESS)
            {
                result = Serve();
                if (_connected)
                {
                    delay = Settings.ReconnectDelay; // it was up: start the backoff over
                }
            }

            _connected = false;
            if (_stopping)
            {
                break;
            }

            if (result != MOSQ_ERR_SUCCESS && result != MOSQ_ERR_NO_CONN)
            {
                Raise(() => ConnectFailed?.Invoke(result));
            }

            WaitForWake(delay);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Settings.MaxReconnectDelay.Ticks));
        }
    }

    private int Connect()
    {
        if (Settings.ProtocolVersion != 5 || Settings.CleanSession)
        {
            return mosquitto_connect(_client, Settings.Host, Settings.Port, (int)Settings.KeepAlive.TotalSeconds);
        }

        // An MQTT 5 session outlives the connection only with a session expiry interval, a CONNECT
        // property; it is given on every (re)connection.
        nint properties = 0;
        try
        {
            Check(mosquitto_property_add_int32(&properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL, (uint)Settings.SessionExpiry.TotalSeconds), "mosquitto_property_add_int32");
            return mosquitto_connect_bind_v5(_client, Settings.Host, Settings.Port, (int)Settings.KeepAlive.TotalSeconds, null, properties);
        }
        finally
        {
            mosquitto_property_free_all(&properties);
        }
    }

    /// <summary>Reads, writes and keeps the connection alive until it drops or the client stops.</summary>
    private int Serve()
    {
        var fds = stackalloc Interop.Libc.poll_fd[2];
        while (true)
        {
            var socket = mosquitto_socket(_client);
            if (socket < 0)
            {
                return MOSQ_ERR_NO_CONN;
            }

            if (_stopping)
            {
                // Say goodbye (no last will), and give the DISCONNECT a moment to leave.
                _ = mosquitto_disconnect(_client);
                for (var i = 0; i < 20 && mosquitto_want_write(_client) && mosquitto_socket(_client) >= 0; i++)
                {
                    _ = mosquitto_loop_write(_client, 1);
                    Thread.Sleep(5);
                }

                return MOSQ_ERR_SUCCESS;
            }

            fds[0] = new Interop.Libc.poll_fd { fd = socket, events = (short)(Interop.Libc.POLLIN | (mosquitto_want_write(_client) ? Interop.Libc.POLLOUT : 0)) };
            fds[1] = new Interop.Libc.poll_fd { fd = _wake, events = Interop.Libc.POLLIN };
            _ = Interop.Libc.poll(fds, 2, 1000); // at least once a second for keep-alive
            if ((fds[1].revents & Interop.Libc.POLLIN) != 0)
            {
                ulong counter;
                _ = Interop.Libc.read(_wake, &counter, sizeof(ulong));
            }

            var result = MOSQ_ERR_SUCCESS;
            if (fds[0].revents != 0)
            {
                result = mosquitto_loop_read(_client, 64);
            }

            if (result == MOSQ_ERR_SUCCESS && mosquitto_want_write(_client))
            {
                result = mosquitto_loop_write(_client, 64);
            }

            if (result == MOSQ_ERR_SUCCESS)
            {
                result = mosquitto_loop_misc(_client);
            }

            if (result != MOSQ_ERR_SUCCESS)
            {
                return result;
            }
        }
    }

    /// <summary>Interrupts the network thread's wait: a packet is queued, or the client stops.</summary>
    private void Wake()
    {
        ulong one = 1;
        _ = Interop.Libc.write(_wake, &one, sizeof(ulong));
    }

    private void WaitForWake(TimeSpan timeout)
    {
        var fd = new Interop.Libc.poll_fd { fd = _wake, events = Interop.Libc.POLLIN };
        if (Interop.Libc.poll(&fd, 1, (int)timeout.TotalMilliseconds) > 0)
        {
            ulong counter;
            _ = Interop.Libc.read(_wake, &counter, sizeof(ulong));
        }
    }

    /// <summary>Sends a message; returns its message id, or null when there is no connection right now.</summary>
    public int? Publish(string topic, ReadOnlySpan<byte> payload, int qos, bool retain)
    {
        int mid;
        int result;
        fixed (byte* p = payload)
        {
            result = mosquitto_publish(_client, &mid, topic, payload.Length, p, qos, retain);
        }

        Wake();
        if (result == MOSQ_ERR_NO_CONN || !_connected)
        {
            return result == MOSQ_ERR_SUCCESS && qos == 0 ? mid : null;
        }

        Check(result, "mosquitto_publish");
        return mid;
    }

    public void Subscribe(string pattern, int qos)
    {
        int mid;
        var result = mosquitto_subscribe(_client, &mid, pattern, qos);
        Wake();
        if (result != MOSQ_ERR_NO_CONN) // without a connection: subscriptions are made again on connect
        {
            Check(result, "mosquitto_subscribe");
        }
    }

    [UnmanagedCallersOnly]
    private static void OnConnect(nint mosq, nint user, int code)
    {
        if (GCHandle.FromIntPtr(user).Target is MosquittoClient client)
        {
            client._connected = code == 0;
            Raise(() => client.Connected?.Invoke(code));
        }
    }

    [UnmanagedCallersOnly]
    private static void OnDisconnect(nint mosq, nint user, int code)
    {
        if (GCHandle.FromIntPtr(user).Target is MosquittoClient client)
        {
            client._connected = false;
            Raise(() => client.Disconnected?.Invoke(code));
        }
    }

    [UnmanagedCallersOnly]
    private static void OnPublish(nint mosq, nint user, int mid)
    {
        if (GCHandle.FromIntPtr(user).Target is MosquittoClient client)
        {
            Raise(() => client.Published?.Invoke(mid));
        }
    }

    [UnmanagedCallersOnly]
    private static void OnMessage(nint mosq, nint user, mosquitto_message* message)
    {
        if (GCHandle.FromIntPtr(user).Target is MosquittoClient client && message is not null)
        {
            var topic = Marshal.PtrToStringUTF8((nint)message->topic) ?? string.Empty;
            var payload = new ReadOnlySpan<byte>(message->payload, Math.Max(0, message->payloadlen)).ToArray();
            var received = new MqttMessage(topic, payload, message->qos, message->retain);
            Raise(() => client.MessageReceived?.Invoke(received));
        }
    }

    /// <summary>Runs a handler; an exception must never unwind into libmosquitto's thread.</summary>
    private static void Raise(Action handler)
    {
        try
        {
            handler();
        }
#pragma warning disable CA1031 // handlers report their own failures; this only shields the native thread
        catch
        {
        }
#pragma warning restore CA1031
    }

    /// <summary>Why the broker refused a connection: a CONNACK code (MQTT 3.1.1) or a reason code (MQTT 5, 128 and up).</summary>
    public static string Refusal(int code) =>
        Marshal.PtrToStringUTF8((nint)(code >= 128 ? mosquitto_reason_string(code) : mosquitto_connack_string(code))) ?? $"code {code}";

    public static string Error(int code) => Marshal.PtrToStringUTF8((nint)mosquitto_strerror(code)) ?? $"error {code}";

    private static void Check(int result, string function)
    {
        if (result != MOSQ_ERR_SUCCESS)
        {
            throw new NativeEngineException("mosquitto", function, result, Error(result));
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_network is not null)
        {
            Wake();
            if (!_network.Join(TimeSpan.FromSeconds(5)))
            {
                // Stuck in a blocking connect to an unreachable host: freeing the client under it
                // would crash, so it is left to the process's end.
                return;
            }

            _network = null;
        }

        _client?.Dispose();
        if (_wake >= 0)
        {
            _ = Interop.Libc.close(_wake);
        }

        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }
}
