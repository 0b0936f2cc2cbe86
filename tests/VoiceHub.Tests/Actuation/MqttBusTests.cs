using VoiceHub.Core.Configuration;
using VoiceHub.Core.Mqtt;
using VoiceHub.Native.Mqtt;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Actuation;

/// <summary>The hub's MQTT link against a real mosquitto on loopback: auth, TLS, outbox, broker restarts.</summary>
[Trait("needs", "broker")]
[Trait("needs", "native")]
public sealed class MqttBusTests
{
    private static MqttOptions Options(int port, Action<MqttOptions>? change = null)
    {
        var options = new MqttOptions { Host = "127.0.0.1", Port = port, HubId = "test", MaxReconnectDelay = TimeSpan.FromSeconds(1), KeepAlive = TimeSpan.FromSeconds(5) };
        change?.Invoke(options);
        return options;
    }

    private static async Task<MqttBus> ConnectedBus(MqttOptions options, RecordingLogger? log = null)
    {
        var bus = new MqttBus(options, log ?? new RecordingLogger());
        var connected = new TaskCompletionSource();
        bus.Connected += () => connected.TrySetResult();
        bus.Start();
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return bus;
    }

    [Fact]
    public void The_libmosquitto_binding_reports_its_version()
    {
        Assert.Matches(@"^2\.\d+\.\d+$", MosquittoClient.Version);
    }

    [Fact]
    public async Task A_command_reaches_the_device_through_a_password_protected_broker()
    {
        using var broker = TestBroker.Start(dir => TestBroker.WithPassword(dir, "hub", "s3cret"));
        using var device = new TestDevice(broker.Port, "zigbee2mqtt/+/set", "hub", "s3cret");
        await using var bus = await ConnectedBus(Options(broker.Port, o => { o.Username = "hub"; o.Password = "s3cret"; }));

        var receipt = await bus.SendCommandAsync("zigbee2mqtt/Kitchen ceiling/set", "{\"state\":\"ON\"}");

        Assert.Equal(CommandOutcome.Delivered, receipt.Outcome);
        var received = device.WaitFor(r => r.Count >= 1);
        Assert.Equal([("zigbee2mqtt/Kitchen ceiling/set", "{\"state\":\"ON\"}", false)], received);
    }

    [Fact]
    public async Task A_wrong_password_is_reported_and_commands_expire_instead_of_firing_later()
    {
        using var broker = TestBroker.Start(dir => TestBroker.WithPassword(dir, "hub", "s3cret"));
        var log = new RecordingLogger();
        await using var bus = new MqttBus(Options(broker.Port, o => { o.Username = "hub"; o.Password = "wrong"; o.CommandExpiry = TimeSpan.FromSeconds(1); }), log);
        var expired = new TaskCompletionSource<CommandReceipt>();
        bus.CommandExpired += r => expired.TrySetResult(r);
        bus.Start();

        var receipt = await bus.SendCommandAsync("zigbee2mqtt/Porch/set", "ON").WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(CommandOutcome.Expired, receipt.Outcome);
        Assert.Equal(receipt, await expired.Task);
        Assert.False(bus.IsConnected);
        Assert.Contains("refused", bus.Health.Detail, StringComparison.Ordinal);
        Assert.Contains(log.Warnings, w => w.Contains("refused the connection: Not authorized", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TLS_with_a_client_certificate_over_MQTT_3_1_1()
    {
        var folder = Directory.CreateTempSubdirectory("voicehub-tls-").FullName;
        try
        {
            var certificates = TestCertificates.Create(folder);
            using var broker = TestBroker.Start(_ => certificates.BrokerConfig());
            using var device = new TestDevice(broker.Port, "tasmota_A1B2C3/cmnd/#", tls: certificates);
            await using var bus = await ConnectedBus(Options(broker.Port, o =>
            {
                o.ProtocolVersion = 4;
                o.CaFile = certificates.CaFile;
                o.CertificateFile = certificates.ClientCertificate;
                o.KeyFile = certificates.ClientKey;
            }));

            var receipt = await bus.SendCommandAsync("tasmota_A1B2C3/cmnd/Dimmer", "30");

            Assert.Equal(CommandOutcome.Delivered, receipt.Outcome);
            Assert.Contains(("tasmota_A1B2C3/cmnd/Dimmer", "30", false), device.WaitFor(r => r.Count >= 1));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Without_the_client_certificate_the_TLS_broker_is_not_reached()
    {
        var folder = Directory.CreateTempSubdirectory("voicehub-tls-").FullName;
        try
        {
            var certificates = TestCertificates.Create(folder);
            using var broker = TestBroker.Start(_ => certificates.BrokerConfig());
            await using var bus = new MqttBus(Options(broker.Port, o => { o.CaFile = certificates.CaFile; o.CommandExpiry = TimeSpan.FromSeconds(1); }), new RecordingLogger());
            bus.Start();

            var receipt = await bus.SendCommandAsync("x/set", "ON").WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(CommandOutcome.Expired, receipt.Outcome);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Three hundred commands, each to its own topic; the broker stops (persisting its sessions)
    /// and comes back twice in the middle. Every command reaches the device, and the hub hands each
    /// to the broker exactly once (QoS 2 over its persistent session). mosquitto 2.0.11 itself may
    /// send a device a message again after a restart (it restores some messages the device had
    /// already completed as unsent and re-publishes them with the DUP flag); its log shows which,
    /// and only those may arrive twice.
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(4)]
    public async Task Broker_restarts_in_a_command_sequence_lose_nothing_and_the_hub_sends_nothing_twice(int protocolVersion)
    {
        using var broker = TestBroker.Start(logPackets: true);
        using var device = new TestDevice(broker.Port, "plug/+/set", qos: 2);
        await using var bus = await ConnectedBus(Options(broker.Port, o => { o.CommandExpiry = TimeSpan.FromMinutes(2); o.ProtocolVersion = protocolVersion; }));
        const int count = 300;
        var receipts = new List<Task<CommandReceipt>>();

        for (var i = 0; i < count; i++)
        {
            receipts.Add(bus.SendCommandAsync($"plug/{i}/set", "ON"));
            if (i is 100 or 200)
            {
                while (bus.Health.Connections < (i / 100))
                {
                    await Task.Delay(20); // the hub is back on the broker before it goes away again
                }

                broker.Broker.Stop(); // the broker goes away mid-sequence ...
                await Task.Delay(300);
                broker.Broker.Restart(); // ... and comes back
            }

            await Task.Delay(3);
        }

        var outcomes = await Task.WhenAll(receipts).WaitAsync(TimeSpan.FromSeconds(60));
        var received = device.WaitFor(r => r.Select(m => m.Topic).Distinct().Count() >= count, seconds: 30);
        var log = broker.Log();

        Assert.All(outcomes, r => Assert.Equal(CommandOutcome.Delivered, r.Outcome));
        Assert.True(bus.Health.Connections >= 3, $"expected reconnections, saw {bus.Health.Connections} connections");
        var fromHub = log.Where(l => l.Contains("Received PUBLISH from voicehub-test (d", StringComparison.Ordinal) && l.Contains("'plug/", StringComparison.Ordinal))
            .Select(l => (Topic: Topic(l), Retry: l.Contains("(d1", StringComparison.Ordinal))).ToList();
        var resentByBroker = log.Where(l => l.Contains("Sending PUBLISH to test-device (d1", StringComparison.Ordinal)).Select(Topic).ToHashSet();
        for (var i = 0; i < count; i++)
        {
            var topic = $"plug/{i}/set";
            // It reached the broker, and was never sent as new twice (a copy after a reconnect is a marked retransmission).
            var copies = fromHub.Where(t => t.Topic == topic).ToList();
            Assert.NotEmpty(copies);
            Assert.True(copies.Count(c => !c.Retry) <= 1, $"{topic} was sent as a new message {copies.Count(c => !c.Retry)} times");
            var atDevice = received.Count(m => m.Topic == topic);
            Assert.True(atDevice == 1 || (atDevice == 2 && resentByBroker.Contains(topic)), $"{topic} arrived {atDevice} times");
        }
    }

    private static string Topic(string logLine)
    {
        var start = logLine.IndexOf('\'', StringComparison.Ordinal) + 1;
        return logLine[start..logLine.IndexOf('\'', start)];
    }

    [Fact]
    public async Task Commands_left_at_shutdown_are_kept_on_disk_and_sent_at_the_next_start()
    {
        var folder = Directory.CreateTempSubdirectory("voicehub-outbox-").FullName;
        try
        {
            var outbox = Path.Combine(folder, "outbox.jsonl");
            var port = MosquittoBroker.FreeLoopbackPort();
            var options = Options(port, o => { o.OutboxFile = outbox; o.CommandExpiry = TimeSpan.FromMinutes(5); });
            var first = new MqttBus(options, new RecordingLogger());
            first.Start(); // no broker on that port yet
            var pending = first.SendCommandAsync("garage/door/set", "CLOSE");
            await first.DisposeAsync();
            Assert.Equal(CommandOutcome.KeptForRestart, (await pending).Outcome);
            Assert.Single(File.ReadAllLines(outbox));

            var brokerFolder = Path.Combine(folder, "broker");
            using var broker = MosquittoBroker.Start(brokerFolder, port: port);
            using var device = new TestDevice(port, "garage/#");
            await using var second = new MqttBus(options, new RecordingLogger());
            second.Start();

            Assert.Contains(("garage/door/set", "CLOSE", false), device.WaitFor(r => r.Count >= 1));
            Assert.False(File.Exists(outbox));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
