using System.CommandLine;
using System.Diagnostics;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Models;
using VoiceHub.Core.Wake;

namespace VoiceHub.Bench;

/// <summary>
/// <c>voicehub bench wake</c>: the wake stage's CPU on a 16 kHz stream (the real-time factor on one
/// thread), the neural stage (features, the phrase's model, checks on candidates) side by side with
/// the pocketsphinx keyword spotter it replaces as the default, over the same minutes of speech and quiet.
/// </summary>
public static class WakeBench
{
    public static Command Create()
    {
        var minutes = new Option<double>("--minutes") { Description = "Minutes of stream to run each detector over", DefaultValueFactory = _ => 3 };
        var command = new Command("wake", "Wake stage CPU per second of stream: neural stage vs keyword spotter") { minutes };
        command.SetAction((parse, cancellationToken) =>
        {
            var root = SideBySide.RepositoryRoot();
            var stream = Stream(root, parse.GetValue(minutes));
            var models = new ModelsOptions();
            var phrases = new List<WakePhrase> { new() };
            var report = new Dictionary<string, object>();
            var factors = new Dictionary<string, double>();
            foreach (var (name, neural) in new[] { ("neural", true), ("spotter", false) })
            {
                using var detector = WakeDetectors.Create(new WakeOptions { Phrases = phrases, Neural = neural }, models, cancellationToken: cancellationToken);
                var (cpu, detections) = Run(detector, stream);
                var factor = cpu / (stream.Length / 16000.0);
                report[name] = new { real_time_factor = factor, cpu_seconds = cpu, detections };
                factors[name] = factor;
                Console.WriteLine($"{name,-8} real-time factor {factor:0.0000} ({factor * 100:0.00}% of one core), {detections} wakes in {stream.Length / 16000.0 / 60:0.0} min");
            }

            var ratio = factors["neural"] / factors["spotter"];
            Console.WriteLine($"neural / spotter CPU: {ratio:0.00}");
            Console.WriteLine($"saved {SideBySide.Save("wake", report)}");
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>The shipped recordings (speech, the wake word) with quiet between, repeated to the length asked for, with a faint noise floor.</summary>
    private static float[] Stream(string root, double minutes)
    {
        var parts = Directory.GetFiles(Path.Combine(root, "audio-fixtures"), "*.wav").Order(StringComparer.Ordinal).Select(f => AudioFile.ReadMono16k(f)).ToList();
        var length = (int)(minutes * 60 * 16000);
        var stream = new float[length];
        var random = new Random(1);
        for (int at = 0, i = 0; at < length; i++)
        {
            var part = parts[i % parts.Count];
            part.AsSpan(0, Math.Min(part.Length, length - at)).CopyTo(stream.AsSpan(at));
            at += part.Length + 16000;
        }

        for (var i = 0; i < length; i++)
        {
            stream[i] += (float)((random.NextDouble() - 0.5) * 0.002);
        }

        return stream;
    }

    private static (double CpuSeconds, int Detections) Run(IWakeDetector detector, float[] stream)
    {
        // One thread does the work, as the audio loop does: its CPU time is the process's here.
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.TotalProcessorTime;
        var detections = 0;
        for (var at = 0; at + 320 <= stream.Length; at += 320)
        {
            detections += detector.Process(new AudioBlock(stream.AsMemory(at, 320), AudioFile.Time(at))).Count;
        }

        process.Refresh();
        return ((process.TotalProcessorTime - before).TotalSeconds, detections);
    }
}
