using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.App.Cli;
using VoiceHub.App.Worker;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Models;
using VoiceHub.Core.Mqtt;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Thermal;

namespace VoiceHub.Bench;

/// <summary>
/// <c>voicehub bench pipeline</c> and <c>voicehub bench soak</c>: the whole appliance (the host
/// <c>voicehub run</c> starts, a private mosquitto, wake word, speech, intents, MQTT) over a
/// stream made of real recordings: a real "computer" from the wake-word set, then a real spoken
/// coffee order from the speech-to-intent set, then a pause, over and over.
/// </summary>
public static class PipelineBench
{
    private static readonly string[] s_whisperModels = ["ggml-base.en.bin", "ggml-tiny.en.bin"];

    private sealed record Command(string Wake, LabelledUtterance Label, TimeSpan Start, TimeSpan End);

    private sealed record Run(List<UtteranceTrace> Traces, List<Command> Commands, double AudioSeconds, double CpuSeconds, double WallSeconds, List<(int Traces, long RssBytes, long ManagedBytes)> Rss, long PeakRssBytes);

    public static System.CommandLine.Command Create()
    {
        var count = new Option<int>("--commands") { Description = "Commands in the stream", DefaultValueFactory = _ => 40 };
        var fast = new Option<bool>("--fast") { Description = "Read the stream as fast as it decodes (default: in real time, as a microphone)" };
        var vad = new Option<string>("--vad") { Description = "Endpointing VAD: energy or silero", DefaultValueFactory = _ => "energy" };
        var command = new System.CommandLine.Command("pipeline", "End of speech -> MQTT publish latency p50/p95 per engine tier, CPU real-time factor, RSS, tier switch time") { count, fast, vad };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var report = new Dictionary<string, object>();
            foreach (var tier in Tiers())
            {
                Console.WriteLine($"tier {tier.Name}: {parse.GetValue(count)} commands, {(parse.GetValue(fast) ? "fast" : "real time")}...");
                var run = await RunAsync(tier, parse.GetValue(count), gapSeconds: 4.5, realTime: !parse.GetValue(fast), cancellationToken, vad: parse.GetValue(vad)!).ConfigureAwait(false);
                report[tier.Name] = Summarize(run);
            }

            report["tier_switch_ms"] = TierSwitchMilliseconds();
            Console.WriteLine($"saved {SideBySide.Save("pipeline", report)}");
            return 0;
        });
        return command;
    }

    public static System.CommandLine.Command CreateSoak()
    {
        var minutes = new Option<double>("--minutes") { Description = "Length of the stream", DefaultValueFactory = _ => 60 };
        var count = new Option<int>("--commands") { Description = "Commands spread over it", DefaultValueFactory = _ => 300 };
        var realTime = new Option<bool>("--real-time") { Description = "Play the stream in real time (default: as fast as it decodes)" };
        var command = new System.CommandLine.Command("soak", "An hour of audio with 300 commands through the appliance: crashes, lost commands, RSS growth after warm-up") { minutes, count, realTime };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var commands = parse.GetValue(count);
            var gap = Math.Max(1, (parse.GetValue(minutes) * 60 / commands) - 5.5);
            var run = await RunAsync(Tiers().Last(), commands, gap, parse.GetValue(realTime), cancellationToken, sampleMemory: true).ConfigureAwait(false);
            if (run.Rss.Count < 3)
            {
                Console.Error.WriteLine($"voicehub bench soak: only {run.Traces.Count} utterances were handled; too few to measure memory growth");
                return 1;
            }

            var summary = Summarize(run);
            var warm = run.Rss.FirstOrDefault(r => r.Traces >= Math.Min(50, run.Traces.Count / 3));
            // The last sample is taken after the host stopped: compare while running.
            var last = run.Rss[^2];
            var growth = (last.RssBytes - warm.RssBytes) / 1048576.0;
            summary["rss_growth_after_warmup_mib"] = Math.Round(growth, 2);
            summary["rss_and_managed_heap_samples_mib"] = run.Rss.Select(r => new[] { r.Traces, Math.Round(r.RssBytes / 1048576.0, 1), Math.Round(r.ManagedBytes / 1048576.0, 1) }).ToList();
            Console.WriteLine($"RSS after {warm.Traces} utterances {warm.RssBytes / 1048576.0:0.0} MiB, after {last.Traces} {last.RssBytes / 1048576.0:0.0} MiB: growth {growth:0.00} MiB (managed heap {warm.ManagedBytes / 1048576.0:0.0} -> {last.ManagedBytes / 1048576.0:0.0} MiB)");
            Console.WriteLine($"saved {SideBySide.Save("soak", summary)}");
            return 0;
        });
        return command;
    }

    /// <summary>The rungs that can run here: whisper when a model is installed, and the closed-set floor.</summary>
    private static List<TierOptions> Tiers()
    {
        var tiers = new List<TierOptions>();
        var models = new ModelsOptions();
        var whisper = s_whisperModels.Select(f => Path.Combine(models.Directory, f)).FirstOrDefault(File.Exists);
        if (whisper is not null)
        {
            tiers.Add(new TierOptions { Name = $"whisper-{Path.GetFileNameWithoutExtension(whisper)[5..]}", Stt = "whisper", WhisperModel = Path.GetFileName(whisper), SlmModel = "none" });
        }
        else
        {
            Console.WriteLine($"no whisper model in {models.Directory}: only the closed-set tier is measured (voicehub models download whisper-base.en)");
        }

        tiers.Add(new TierOptions { Name = "closed-set", Stt = "pocketsphinx", SlmModel = "none" });
        return tiers;
    }

    private static async Task<Run> RunAsync(TierOptions tier, int count, double gapSeconds, bool realTime, CancellationToken cancellationToken, bool sampleMemory = false, string vad = "energy")
    {
        var folder = Directory.CreateTempSubdirectory("voicehub-bench-pipeline-").FullName;
        try
        {
            var (wav, commands, audioSeconds) = BuildStream(Path.Combine(folder, "stream.wav"), count, gapSeconds);
            var config = Path.Combine(folder, "config.yaml");
            await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
                hub:
                  intents: {Path.Combine(AppContext.BaseDirectory, "intents", "coffee")}
                  stateDirectory: {Path.Combine(folder, "state")}
                mqtt:
                  port: {Core.Mqtt.MosquittoBroker.FreeLoopbackPort()}
                speaker:
                  device: none
                audio:
                  vad:
                    detector: {vad}
                scheduler:
                  pollInterval: 01:00:00
                  tiers:
                    - name: {tier.Name}
                      stt: {tier.Stt}
                      whisperModel: "{tier.WhisperModel}"
                      slmModel: none
                """), cancellationToken).ConfigureAwait(false);

            var traces = new List<UtteranceTrace>();
            var rss = new List<(int, long, long)>();

            // The stream was built in memory: return that memory before measuring the hub's.
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            var process = Process.GetCurrentProcess();
            var settings = new RunSettings
            {
                Input = wav,
                Once = true,
                Fast = !realTime,
                Report = trace =>
                {
                    lock (traces)
                    {
                        traces.Add(trace);
                        if (sampleMemory && traces.Count % 10 == 0)
                        {
                            // A full collection first: what the hub still holds, not garbage not yet collected.
                            var managed = GC.GetTotalMemory(forceFullCollection: true);
                            process.Refresh();
                            rss.Add((traces.Count, process.WorkingSet64, managed));
                        }
                    }
                },
            };
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            using (var host = RunCommand.Build(config, settings, services => services.Configure<Microsoft.Extensions.Logging.LoggerFilterOptions>(o => o.MinLevel = Microsoft.Extensions.Logging.LogLevel.Warning)))
            {
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
            }

            process.Refresh();
            rss.Add((traces.Count, process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false)));
            return new Run(traces, commands, audioSeconds, (process.TotalProcessorTime - cpu).TotalSeconds, clock.Elapsed.TotalSeconds, rss, process.PeakWorkingSet64);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>wake word, 0.3 s, a coffee order, a pause; faint noise throughout (a real room is never digitally silent).</summary>
    private static (string Path, List<Command> Commands, double Seconds) BuildStream(string path, int count, double gapSeconds)
    {
        var shared = Path.Combine(SideBySide.RepositoryRoot(), "..", "shared");
        var labels = SpeechEvaluation.LoadLabels(Path.Combine(shared, "speech-to-intent-dev"));
        var wakes = Directory.GetFiles(Path.Combine(shared, "wake-word-dev", "computer"), "*.wav").Order(StringComparer.Ordinal).ToList();
        var samples = new List<float>();
        var commands = new List<Command>();
        var random = new Random(42);
        void Append(ReadOnlySpan<float> audio) => samples.AddRange(audio);
        void Pause(double seconds)
        {
            for (var i = 0; i < (int)(seconds * AudioFile.SampleRate); i++)
            {
                samples.Add((float)((random.NextDouble() - 0.5) * 0.002));
            }
        }

        Pause(1);
        for (var i = 0; i < count; i++)
        {
            var wake = wakes[i % wakes.Count];
            var label = labels[i % labels.Count];
            Append(Trim(AudioFile.ReadMono16k(wake)));
            Pause(0.3);
            var start = AudioFile.Time(samples.Count);
            Append(AudioFile.ReadMono16k(label.File));
            commands.Add(new Command(Path.GetFileName(wake), label, start, AudioFile.Time(samples.Count)));
            Pause(gapSeconds);
        }

        var mixed = samples.ToArray();
        for (var i = 0; i < mixed.Length; i++)
        {
            mixed[i] += (float)((random.NextDouble() - 0.5) * 0.002);
        }

        WavWriter.Write(path, mixed);
        return (path, commands, mixed.Length / (double)AudioFile.SampleRate);
    }

    /// <summary>The wake recordings carry a second or more of silence at each end; keep 0.3 s of it.</summary>
    private static float[] Trim(float[] audio)
    {
        var threshold = 0.02f;
        var first = Array.FindIndex(audio, s => Math.Abs(s) > threshold);
        var last = Array.FindLastIndex(audio, s => Math.Abs(s) > threshold);
        if (first < 0)
        {
            return audio;
        }

        var from = Math.Max(0, first - 4800);
        var to = Math.Min(audio.Length, last + 4800);
        return audio[from..to];
    }

    private static Dictionary<string, object> Summarize(Run run)
    {
        // Each trace belongs to the command whose audio it ended in (or just after).
        var matched = new Dictionary<int, UtteranceTrace>();
        foreach (var trace in run.Traces.Where(t => t.Woken))
        {
            var index = run.Commands.FindIndex(c => trace.StreamEnd >= c.Start && trace.StreamEnd <= c.End + TimeSpan.FromSeconds(1.5));
            if (index >= 0)
            {
                matched.TryAdd(index, trace);
            }
        }

        if (Environment.GetEnvironmentVariable("VOICEHUB_BENCH_VERBOSE") == "1")
        {
            foreach (var c in run.Commands)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    command {c.Start.TotalSeconds:0.0}-{c.End.TotalSeconds:0.0} {c.Wake} {c.Label.Intent} {string.Join(",", c.Label.Slots.Values)}"));
            }

            foreach (var t in run.Traces)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    trace {t.StreamStart.TotalSeconds:0.0}-{t.StreamEnd.TotalSeconds:0.0} woken={t.Woken} \"{t.Transcript}\" {t.Rejection} {t.Result?.Intent}"));
            }
        }

        var accepted = matched.Count(m => m.Value.Result is { } result && SpeechEvaluation.Score(run.Commands[m.Key].Label, result).Accepted);
        var published = run.Traces.Where(t => t.Result is not null && t.EndOfSpeechToActionMs is not null).Select(t => t.EndOfSpeechToActionMs!.Value).Order().ToList();
        var errors = run.Traces.Count(t => t.Error is not null);
        double Percentile(double p) => published.Count == 0 ? double.NaN : published[Math.Min(published.Count - 1, (int)Math.Ceiling(p * published.Count) - 1)];
        var waited = run.Traces.Where(t => t.Result is not null && t.SpeechEndToActionMs is not null).Select(t => t.SpeechEndToActionMs!.Value).Order().ToList();
        double Waited(double p) => waited.Count == 0 ? double.NaN : waited[Math.Min(waited.Count - 1, (int)Math.Ceiling(p * waited.Count) - 1)];
        var summary = new Dictionary<string, object>
        {
            ["commands"] = run.Commands.Count,
            ["utterances"] = run.Traces.Count,
            ["woken_for_a_command"] = matched.Count,
            ["wake_missed"] = run.Commands.Count - matched.Count,
            ["accepted_intent_and_slots"] = accepted,
            ["stage_errors"] = errors,
            ["lost_after_wake"] = matched.Count(m => m.Value.Result is null && m.Value.Rejection is null),
            ["end_of_speech_to_publish_ms_p50"] = Math.Round(Percentile(0.5), 1),
            ["end_of_speech_to_publish_ms_p95"] = Math.Round(Percentile(0.95), 1),
            ["end_of_speech_to_publish_ms_max"] = published.Count == 0 ? double.NaN : Math.Round(published[^1], 1),
            // From the last voiced frame, the endpointing pause included: what the speaker waits.
            ["last_voiced_frame_to_publish_ms_p50"] = Math.Round(Waited(0.5), 1),
            ["last_voiced_frame_to_publish_ms_p95"] = Math.Round(Waited(0.95), 1),
            ["audio_seconds"] = Math.Round(run.AudioSeconds, 1),
            ["wall_seconds"] = Math.Round(run.WallSeconds, 1),
            ["cpu_real_time_factor"] = Math.Round(run.CpuSeconds / run.AudioSeconds, 3),
            ["peak_rss_mib"] = Math.Round(run.PeakRssBytes / 1048576.0, 1),
        };
        Console.WriteLine(string.Join(Environment.NewLine, summary.Select(s => $"  {s.Key,-34} {Convert.ToString(s.Value, CultureInfo.InvariantCulture)}")));
        return summary;
    }

    /// <summary>How long a rung change takes to build (the pipeline keeps using the old set meanwhile).</summary>
    private static Dictionary<string, double> TierSwitchMilliseconds()
    {
        var intents = IntentSet.Load(Path.Combine(AppContext.BaseDirectory, "intents", "en"));
        var registry = DevicesFile.Load(Path.Combine(AppContext.BaseDirectory, "demo", "devices.yaml"));
        var scheduler = new SchedulerOptions { Tiers = [.. Tiers(), new TierOptions { Name = "closed-set-1-thread", Stt = "pocketsphinx", SlmModel = "none", Threads = 1 }] };
        using var sets = new ModelSets(intents, registry, new ModelsOptions(), new SpeechOptions(), new WhisperEngineOptions(), new PocketsphinxEngineOptions(), new SlmOptions(), scheduler, NullLogger.Instance);
        sets.BuildInitial();
        var result = new Dictionary<string, double>();
        for (var i = 1; i < sets.Tiers.Count; i++)
        {
            sets.SwitchTierAsync(i).GetAwaiter().GetResult();
            result[$"{sets.Tiers[i - 1].Name} -> {sets.Tiers[i].Name}"] = Math.Round(sets.LastBuildTime.TotalMilliseconds, 1);
            _ = sets.TakeCurrent();
        }

        Console.WriteLine(string.Join(Environment.NewLine, result.Select(r => $"  tier switch {r.Key,-40} {r.Value} ms")));
        return result;
    }
}
