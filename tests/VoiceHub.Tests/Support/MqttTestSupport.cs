using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using VoiceHub.Core.Mqtt;
using VoiceHub.Native.Mqtt;

namespace VoiceHub.Tests.Support;

/// <summary>A real mosquitto in a temporary folder, removed when the test ends.</summary>
public sealed class TestBroker : IDisposable
{
    private TestBroker(string directory, MosquittoBroker broker)
    {
        Directory = directory;
        Broker = broker;
    }

    public string Directory { get; }

    public MosquittoBroker Broker { get; }

    public int Port => Broker.Port;

    /// <param name="logPackets">Log every packet (mosquitto's "log_type all"), to see who sent what.</param>
    public static TestBroker Start(Func<string, IEnumerable<string>>? extraConfig = null, bool logPackets = false)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("voicehub-broker-").FullName;
        var config = (extraConfig?.Invoke(directory) ?? []).Concat(logPackets ? ["log_type all"] : []);
        return new TestBroker(directory, MosquittoBroker.Start(directory, config));
    }

    /// <summary>The broker's log so far.</summary>
    public IReadOnlyList<string> Log()
    {
        using var stream = new FileStream(Path.Combine(Directory, "mosquitto.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n');
    }

    /// <summary>A password file made by mosquitto_passwd, as an installer would.</summary>
    public static IEnumerable<string> WithPassword(string directory, string user, string password)
    {
        var file = Path.Combine(directory, "passwords");
        using var process = Process.Start(new ProcessStartInfo("mosquitto_passwd") { ArgumentList = { "-b", "-c", file, user, password }, RedirectStandardError = true })!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return [$"password_file {file}"];
    }

    public void Dispose()
    {
        Broker.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, made for one test as PEM files.</summary>
public sealed record TestCertificates(string CaFile, string ServerCertificate, string ServerKey, string ClientCertificate, string ClientKey)
{
    public static TestCertificates Create(string directory)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=VoiceHub Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        string Issue(string name, string subject, Oid usage, bool server)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
            if (server)
            {
                var names = new SubjectAlternativeNameBuilder();
                names.AddIpAddress(IPAddress.Loopback);
                names.AddDnsName("localhost");
                names.AddDnsName("127.0.0.1"); // libmosquitto checks the host it was given as a DNS name
                request.CertificateExtensions.Add(names.Build());
            }

            using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
            File.WriteAllText(Path.Combine(directory, name + ".crt"), certificate.ExportCertificatePem());
            File.WriteAllText(Path.Combine(directory, name + ".key"), key.ExportPkcs8PrivateKeyPem());
            return Path.Combine(directory, name);
        }

        File.WriteAllText(Path.Combine(directory, "ca.crt"), ca.ExportCertificatePem());
        var serverFiles = Issue("server", "CN=127.0.0.1", new Oid("1.3.6.1.5.5.7.3.1"), server: true);
        var clientFiles = Issue("client", "CN=voicehub", new Oid("1.3.6.1.5.5.7.3.2"), server: false);
        return new TestCertificates(Path.Combine(directory, "ca.crt"), serverFiles + ".crt", serverFiles + ".key", clientFiles + ".crt", clientFiles + ".key");
    }

    /// <summary>Broker lines: TLS only, client certificates required.</summary>
    public IEnumerable<string> BrokerConfig() =>
        [$"cafile {CaFile}", $"certfile {ServerCertificate}", $"keyfile {ServerKey}", "require_certificate true", "use_identity_as_username true"];
}

/// <summary>
/// A device on the broker, as zigbee2mqtt or a Tasmota board is one: subscribed to its command
/// topics with a persistent session, so commands queued while it reconnects still reach it (at QoS 2,
/// exactly once even when the broker restarts between delivering a message and hearing it was received).
/// </summary>
public sealed class TestDevice : IDisposable
{
    private readonly MosquittoClient _client;
    private readonly string _pattern;

    public TestDevice(int port, string pattern, string? username = null, string? password = null, TestCertificates? tls = null, string clientId = "test-device", bool persistentSession = true, int qos = 1)
    {
        _pattern = pattern;
        _client = new MosquittoClient(new MqttConnectionSettings
        {
            ClientId = clientId,
            Host = "127.0.0.1",
            Port = port,
            ProtocolVersion = 4,
            CleanSession = !persistentSession,
            Username = username,
            Password = password,
            CaFile = tls?.CaFile,
            CertificateFile = tls?.ClientCertificate,
            KeyFile = tls?.ClientKey,
            KeepAlive = TimeSpan.FromSeconds(5),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        });
        _client.Connected += code =>
        {
            if (code == 0)
            {
                _client.Subscribe(_pattern, qos);
                Subscribed.Set();
            }
        };
        _client.MessageReceived += message => Received.Enqueue((message.Topic, Encoding.UTF8.GetString(message.Payload), message.Retain));
        _client.Start();
        Assert.True(Subscribed.Wait(TimeSpan.FromSeconds(10)), "the test device did not connect");
        Thread.Sleep(100); // the SUBACK
    }

    public ManualResetEventSlim Subscribed { get; } = new();

    public ConcurrentQueue<(string Topic, string Payload, bool Retain)> Received { get; } = new();

    public bool IsConnected => _client.IsConnected;

    /// <summary>Waits until <paramref name="done"/> holds for what arrived (generous: this checks arrival, not speed).</summary>
    public List<(string Topic, string Payload, bool Retain)> WaitFor(Func<List<(string Topic, string Payload, bool Retain)>, bool> done, int seconds = 20)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var now = Received.ToList();
            if (done(now))
            {
                return now;
            }

            Thread.Sleep(20);
        }

        return [.. Received];
    }

    public void Publish(string topic, string payload, bool retain = false) => _client.Publish(topic, Encoding.UTF8.GetBytes(payload), 1, retain);

    public void Dispose() => _client.Dispose();
}
