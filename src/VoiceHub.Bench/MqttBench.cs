using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Mqtt;
using VoiceHub.Native.Mqtt;
using VoiceHub.Tests.Support;

namespace VoiceHub.Bench;

/// <summary>
/// <c>voicehub bench mqtt</c>: intent → device latency on loopback through the hub's whole
/// actuation path (command builder, outbox, QoS 2), side by side with a bare libmosquitto publish
/// of the same payload; and durability: many commands with broker restarts in the middle.
/// </summary>
public static class MqttBench
{
    public static Command Command()
    {
        var commands = new Option<int>("--commands") { Description = "Timed commands for the latency part", DefaultValueFactory = _ => 2000 };
        var durability = new Option<int>("--durability-commands") { Description = "Commands for the restart part", DefaultValueFactory = _ => 10000 };
        var restarts = new Option<int>("--restarts") { Description = "Broker restarts during the durability part", DefaultValueFactory = _ => 3 };
        var command = new Command("mqtt", "Intent to device latency (p50/p95) vs a bare publish; commands lost across broker restarts") { commands, durability, restarts };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var folder = Directory.CreateTempSubdirectory("voicehub-bench-mqtt-").FullName;
            try
            {
                var report = new Dictionary<string, object>
                {
                    ["latency"] = await LatencyAsync(folder, parse.GetValue(commands)).ConfigureAwait(false),
                    ["durability"] = await DurabilityAsync(Path.Combine(folder, "durability"), parse.GetValue(durability), parse.GetValue(restarts)).ConfigureAwait(false),
                };
                Console.WriteLine($"saved {SideBySide.Save("mqtt", report)}");
                return 0;
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        });
        return command;
    }

    /// <summary>A device on the broker that notes when each topic's message arrived.</summary>
    private sealed class Device : IDisposable
    {
        private readonly MosquittoClient _client;

        public Device(int port, string pattern)
        {
            var ready = new ManualResetEventSlim();
            _client = new MosquittoClient(new MqttConnectionSettings { ClientId = "bench-device", Host = "127.0.0.1", Port = port, ProtocolVersion = 4, CleanSession = false });
            _client.Connected += code =>
            {
                _client.Subscribe(pattern, 2);
                ready.Set();
            };
            _client.MessageReceived += m => Arrivals.Enqueue((m.Topic, Stopwatch.GetTimestamp()));
            _client.Start();
            if (!ready.Wait(TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException("the bench device did not connect");
            }

            Thread.Sleep(200);
        }

        public ConcurrentQueue<(string Topic, long At)> Arrivals { get; } = new();

        public (string Topic, long At) Next(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (Arrivals.TryDequeue(out var arrival))
                {
                    return arrival;
                }

                Thread.SpinWait(50);
            }

            throw new TimeoutException("a command did not arrive");
        }

        public void Dispose() => _client.Dispose();
    }

    private static async Task<object> LatencyAsync(string folder, int count)
    {
        using var broker = MosquittoBroker.Start(Path.Combine(folder, "latency"));
        using var device = new Device(broker.Port, "zigbee2mqtt/+/set");
        await using var bus = new MqttBus(new MqttOptions { Host = "127.0.0.1", Port = broker.Port, HubId = "bench" }, NullLogger.Instance);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bus.Connected += () => connected.TrySetResult();
        bus.Start();
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);

        // A home of zigbee2mqtt plugs and lights, learned the way the hub learns it: discovery.
        var home = new Home(DeviceRegistry.Empty, NullLogger.Instance);
        for (var i = 0; i < 40; i++)
        {
            var (topic, payload) = i % 2 == 0 ? DiscoveryPayloads.Z2mPlug($"0x{i:x4}", $"Plug {i}", $"plug_{i}") : DiscoveryPayloads.Z2mLight($"0x{i:x4}", $"Lamp {i}", $"lamp_{i}");
            home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload));
        }

        var states = new EntityStateStore(NullLogger.Instance);
        var actuator = new Actuator(bus, null, states, null, NullLogger.Instance);
        var recognizer = IntentRecognizer.Create(IntentSet.Load(Path.Combine(SideBySide.RepositoryRoot(), "intents", "en")), home.Current, states: states);
        var results = new List<IntentResult>();
        for (var i = 0; i < 40; i++)
        {
            var name = i % 2 == 0 ? $"plug {i}" : $"lamp {i}";
            results.Add(await recognizer.RecognizeAsync(i % 4 < 2 ? $"turn on the {name}" : $"turn off the {name}").ConfigureAwait(false));
        }

        var raw = new MosquittoClient(new MqttConnectionSettings { ClientId = "bench-raw", Host = "127.0.0.1", Port = broker.Port });
        var rawReady = new ManualResetEventSlim();
        raw.Connected += _ => rawReady.Set();
        raw.Start();
        rawReady.Wait(TimeSpan.FromSeconds(10));

        var ours = new double[count];
        var peer = new double[count];
        for (var i = -100; i < count; i++) // the first hundred warm up
        {
            var result = results[(i + 100) % results.Count];
            var start = Stopwatch.GetTimestamp();
            await actuator.ExecuteAsync(result, home.Current).ConfigureAwait(false);
            var arrived = device.Next(TimeSpan.FromSeconds(10));
            var oursMs = Stopwatch.GetElapsedTime(start, arrived.At).TotalMilliseconds;

            // The peer: the same command, published bare at the same QoS, timed to the device.
            var command = MqttCommandBuilder.Build(result, home.Current.FindEntity(result.Targets[0])!, null)[0];
            start = Stopwatch.GetTimestamp();
            raw.Publish(command.Topic, Encoding.UTF8.GetBytes(command.Payload), 2, false);
            arrived = device.Next(TimeSpan.FromSeconds(10));
            if (i >= 0)
            {
                ours[i] = oursMs;
                peer[i] = Stopwatch.GetElapsedTime(start, arrived.At).TotalMilliseconds;
            }
        }

        raw.Dispose();
        Array.Sort(ours);
        Array.Sort(peer);
        double P(double[] s, double p) => s[(int)Math.Min(s.Length - 1, Math.Ceiling(p * s.Length) - 1)];
        Console.WriteLine($"intent -> device on loopback ({count} commands, QoS 2, 40 discovered zigbee2mqtt entities):");
        Console.WriteLine($"  hub:  p50 {P(ours, 0.5):0.000} ms, p95 {P(ours, 0.95):0.000} ms (target <= 5), max {ours[^1]:0.000} ms");
        Console.WriteLine($"  bare libmosquitto publish: p50 {P(peer, 0.5):0.000} ms, p95 {P(peer, 0.95):0.000} ms");
        Console.WriteLine($"  ratio hub/bare: p50 {P(ours, 0.5) / P(peer, 0.5):0.00}, p95 {P(ours, 0.95) / P(peer, 0.95):0.00}");
        return new { commands = count, p50_ms = P(ours, 0.5), p95_ms = P(ours, 0.95), max_ms = ours[^1], bare_p50_ms = P(peer, 0.5), bare_p95_ms = P(peer, 0.95), ratio_p95 = P(ours, 0.95) / P(peer, 0.95) };
    }

    private static async Task<object> DurabilityAsync(string folder, int count, int restarts)
    {
        using var broker = MosquittoBroker.Start(folder, ["log_type all"]);
        using var device = new Device(broker.Port, "plug/+/set");
        await using var bus = new MqttBus(new MqttOptions { Host = "127.0.0.1", Port = broker.Port, HubId = "bench", CommandExpiry = TimeSpan.FromMinutes(10), MaxReconnectDelay = TimeSpan.FromSeconds(1) }, NullLogger.Instance);
        bus.Start();
        var receipts = new List<Task<CommandReceipt>>(count);
        var restartAt = Enumerable.Range(1, restarts).Select(k => k * count / (restarts + 1)).ToHashSet();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            receipts.Add(bus.SendCommandAsync($"plug/{i}/set", "ON"));
            if (restartAt.Contains(i))
            {
                broker.Stop();
                await Task.Delay(500).ConfigureAwait(false);
                broker.Restart();
            }

            if (i % 50 == 0)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }
        }

        var outcomes = await Task.WhenAll(receipts).WaitAsync(TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        var deadline = Stopwatch.StartNew();
        while (device.Arrivals.Select(a => a.Topic).Distinct().Count() < count && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100).ConfigureAwait(false);
        }

        var arrivals = device.Arrivals.GroupBy(a => a.Topic).ToDictionary(g => g.Key, g => g.Count());
        var lost = Enumerable.Range(0, count).Count(i => !arrivals.ContainsKey($"plug/{i}/set"));
        var duplicates = arrivals.Values.Sum(c => c - 1);
        var log = File.ReadAllLines(Path.Combine(folder, "mosquitto.log"));
        var brokerResent = log.Count(l => l.Contains("Sending PUBLISH to bench-device (d1", StringComparison.Ordinal));
        var hubNewTwice = log.Where(l => l.Contains("Received PUBLISH from voicehub-bench (d0", StringComparison.Ordinal) && l.Contains("'plug/", StringComparison.Ordinal))
            .GroupBy(l => l[(l.IndexOf('\'', StringComparison.Ordinal) + 1)..l.LastIndexOf('\'')]).Count(g => g.Count() > 1);
        Console.WriteLine($"durability: {count} commands, {restarts} broker restarts in {clock.Elapsed.TotalSeconds:0.0} s");
        Console.WriteLine($"  acknowledged {outcomes.Count(o => o.Outcome == CommandOutcome.Delivered)}, expired {outcomes.Count(o => o.Outcome == CommandOutcome.Expired)}; at the device: lost {lost} (target 0), duplicated {duplicates}");
        Console.WriteLine($"  sent as new twice by the hub: {hubNewTwice}; re-sent by the restarted broker (DUP) {brokerResent}");
        return new { commands = count, restarts, lost, duplicates_at_device = duplicates, hub_sent_twice = hubNewTwice, broker_resent = brokerResent, delivered = outcomes.Count(o => o.Outcome == CommandOutcome.Delivered) };
    }
}
