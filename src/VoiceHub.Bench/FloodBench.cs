using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VoiceHub.App.Cli;
using VoiceHub.App.Worker;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Mqtt;
using VoiceHub.Core.Pipeline;
using VoiceHub.Native.Mqtt;
using VoiceHub.Tests.Support;

namespace VoiceHub.Bench;

/// <summary>
/// <c>voicehub bench flood</c>: the appliance (as <c>voicehub run</c> builds it, on the demo home and
/// its recording of four spoken commands, in real time) while a bridge announces thousands of
/// entities at once over MQTT discovery. Reports the commands handled and published, how long
/// after the flood a command is handled again, and the peak memory of the whole process.
/// </summary>
public static class FloodBench
{
    // Real words (all in the pronunciation dictionary), so the home's names are as a grammar sees real ones.
    private static readonly string[] s_colours = ["red", "blue", "green", "white", "black", "yellow", "orange", "purple", "silver", "golden", "brown", "pink", "grey", "dark", "bright", "small", "big", "old", "new", "round"];
    private static readonly string[] s_places = ["porch", "attic", "cellar", "study", "nursery", "pantry", "landing", "hallway", "balcony", "terrace", "shed", "workshop", "library", "lounge", "den", "loft", "patio", "garden", "laundry", "closet"];
    private static readonly string[] s_things = ["lamp", "plug", "socket", "fan", "heater", "speaker", "switch", "outlet", "strip", "bulb", "spotlight", "lantern", "kettle", "radio", "pump", "blower", "charger", "monitor", "fountain", "sprinkler", "humidifier", "purifier", "projector", "television", "candle"];

    public static Command Create()
    {
        var entities = new Option<int>("--entities") { Description = "Entities announced at once", DefaultValueFactory = _ => 10000 };
        var command = new Command("flood", "Discovery flood: N entities announced at once while commands are spoken; commands lost, time until handled again, peak RSS") { entities };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var summary = await RunAsync(parse.GetValue(entities), cancellationToken).ConfigureAwait(false);
            Console.WriteLine(string.Join(Environment.NewLine, summary.Select(s => $"  {s.Key,-40} {Convert.ToString(s.Value, CultureInfo.InvariantCulture)}")));
            Console.WriteLine($"saved {SideBySide.Save("flood", summary)}");
            return summary["commands_lost"] is 0 ? 0 : 1;
        });
        return command;
    }

    private static async Task<Dictionary<string, object>> RunAsync(int count, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("voicehub-bench-flood-").FullName;
        try
        {
            using var broker = MosquittoBroker.Start(Path.Combine(folder, "broker"));
            var config = Path.Combine(folder, "config.yaml");
            await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
                hub:
                  devices: {Path.Combine(AppContext.BaseDirectory, "demo", "devices.yaml")}
                  stateDirectory: {Path.Combine(folder, "state")}
                mqtt:
                  host: 127.0.0.1
                  port: {broker.Port}
                speaker:
                  device: none
                """), cancellationToken).ConfigureAwait(false);

            var published = new List<(TimeSpan At, string Topic)>();
            var clock = Stopwatch.StartNew();
            using var devices = await ConnectedClient("flood-devices", broker.Port).ConfigureAwait(false);
            devices.MessageReceived += m =>
            {
                lock (published)
                {
                    published.Add((clock.Elapsed, m.Topic));
                }
            };
            devices.Subscribe("zigbee2mqtt/+/set", 1);
            devices.Subscribe("zigbee2mqtt/+/set/#", 1);
            using var bridge = await ConnectedClient("flood-bridge", broker.Port).ConfigureAwait(false);

            var traces = new List<(TimeSpan At, UtteranceTrace Trace)>();
            TimeSpan? floodStart = null, floodSent = null;
            var settings = new RunSettings
            {
                Input = Path.Combine(AppContext.BaseDirectory, "demo", "demo.wav"),
                Once = true,
                Report = trace =>
                {
                    lock (traces)
                    {
                        traces.Add((clock.Elapsed, trace));
                    }
                },
                Announce = line =>
                {
                    if (floodStart is null && line.StartsWith("listening on file:", StringComparison.Ordinal))
                    {
                        // The hub listens: announce the whole home at once, as a bridge does after a restart.
                        floodStart = clock.Elapsed;
                        for (var i = 0; i < count; i++)
                        {
                            var (topic, payload) = Announcement(i);
                            bridge.Publish(topic, Encoding.UTF8.GetBytes(payload), 0, retain: false);
                        }

                        floodSent = clock.Elapsed;
                    }
                },
            };
            using (var host = RunCommand.Build(config, settings, services => services.Configure<Microsoft.Extensions.Logging.LoggerFilterOptions>(o => o.MinLevel = Microsoft.Extensions.Logging.LogLevel.Warning)))
            {
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            foreach (var (at, trace) in traces)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  at {at.TotalSeconds:0.0} s: {RunCommand.Describe(trace)}"));
            }

            var acted = traces.Where(t => t.Trace.Actuation is { Targets.Count: > 0 }).ToList();
            var firstAfterFlood = acted.FirstOrDefault(t => floodSent is { } sent && t.At > sent);
            return new Dictionary<string, object>
            {
                ["entities_announced"] = count,
                ["flood_publish_seconds"] = Math.Round(((floodSent ?? TimeSpan.Zero) - (floodStart ?? TimeSpan.Zero)).TotalSeconds, 2),
                ["utterances"] = traces.Count,
                ["commands_acted_on"] = acted.Count,
                ["commands_published_to_devices"] = published.Count,
                ["commands_lost"] = acted.Count(t => t.Trace.Actuation!.Targets.Any(x => x.Status != TargetStatus.Done)),
                ["stage_errors"] = traces.Count(t => t.Trace.Error is not null),
                ["first_command_handled_after_flood_s"] = firstAfterFlood.Trace is null || floodSent is null ? double.NaN : Math.Round((firstAfterFlood.At - floodSent.Value).TotalSeconds, 2),
                ["end_of_speech_to_publish_ms_max"] = acted.Count == 0 ? double.NaN : Math.Round(acted.Max(t => t.Trace.EndOfSpeechToActionMs ?? 0), 1),
                ["peak_rss_mib"] = Math.Round(PeakRssBytes() / 1048576.0, 1),
            };
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (string Topic, string Payload) Announcement(int i)
    {
        var name = $"{s_colours[i % s_colours.Length]} {s_places[i / s_colours.Length % s_places.Length]} {s_things[i / (s_colours.Length * s_places.Length) % s_things.Length]}";
        return DiscoveryPayloads.Z2mPlug($"0x{i:x16}", name, name.Replace(' ', '_'), s_places[i / s_colours.Length % s_places.Length]);
    }

    private static async Task<MosquittoClient> ConnectedClient(string id, int port)
    {
        var client = new MosquittoClient(new MqttConnectionSettings { ClientId = id, Host = "127.0.0.1", Port = port });
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connected += _ => connected.TrySetResult();
        client.Start();
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return client;
    }

    /// <summary>The kernel's high-water mark of this process's resident memory (VmHWM).</summary>
    private static long PeakRssBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}
