using System.Globalization;
using System.Text;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.App.Cli;

/// <summary>
/// <c>eval wake --model</c> and <c>--enroll</c>: a wake model's scores over every positive and
/// negative file, clean and with noise mixed in, swept over thresholds into miss rate against
/// false alarms per hour (a false alarm: a crossing of the threshold, with the detector's 2 s refractory time).
/// </summary>
public static class WakeModelEvaluation
{
    public sealed record Row(string Condition, double Threshold, int Positives, int Missed, int FalseAlarms, double NegativeHours)
    {
        public double MissRate => (double)Missed / Positives;

        public double FalseAlarmsPerHour => FalseAlarms / NegativeHours;
    }

    /// <summary>The hub's own refractory time: crossings closer than this are one detection.</summary>
    private static readonly TimeSpan s_refractory = new Core.Wake.WakeOptions().Refractory;

    /// <summary>Score traces of each file (one score per 80 ms) with noise at <paramref name="snrDb"/> (null: clean).</summary>
    public static async Task<List<List<(TimeSpan End, float Score)>>> ScoreAsync(string modelFile, IReadOnlyList<string> files, float[]? noise, double? snrDb, CancellationToken cancellationToken)
    {
        using var features = WakeFeatureModels.Load(WakeFeatureModels.DefaultDirectory());
        return await PerFileAsync(files, () => new NeuralWakeDetector(features, WakeModels.Open(modelFile), threshold: 2, s_refractory) { Scores = [] }, (detector, index, file) =>
        {
            detector.Reset();
            detector.Process(new AudioBlock(Prepare(file, noise, snrDb, index), TimeSpan.Zero));
            return detector.Scores!.ToList();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <paramref name="measure"/> over every file (each a stream of its own), on one worker per core,
    /// each with a detector of its own from <paramref name="open"/>; results in the files' order.
    /// </summary>
    public static async Task<List<T>> PerFileAsync<TDetector, T>(IReadOnlyList<string> files, Func<TDetector> open, Func<TDetector, int, string, T> measure, CancellationToken cancellationToken)
        where TDetector : IDisposable
    {
        var queue = new System.Collections.Concurrent.ConcurrentQueue<(int Index, string File)>(files.Select((f, i) => (i, f)));
        var results = new T[files.Count];
        await Task.WhenAll(Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Run(() =>
        {
            using var detector = open();
            while (queue.TryDequeue(out var item))
            {
                cancellationToken.ThrowIfCancellationRequested();
                results[item.Index] = measure(detector, item.Index, item.File);
            }
        }, cancellationToken))).ConfigureAwait(false);
        return [.. results];
    }

    /// <summary>
    /// A file as the detectors hear it in evaluation: followed by a second more of the stream (a
    /// live stream goes on after the phrase), the noise mixed in at the SNR of the file's own
    /// speech and going on through that second.
    /// </summary>
    public static float[] Prepare(string file, float[]? noise, double? snrDb, int seed)
    {
        var audio = AudioFile.ReadMono16k(file);
        var padded = new float[audio.Length + 16000];
        audio.CopyTo(padded, 0);
        if (noise is null || snrDb is not { } snr)
        {
            return padded;
        }

        return SpeechEvaluation.MixNoise(audio, noise, snr, seed, padded.Length);
    }

    public static IEnumerable<Row> Sweep(string condition, List<List<(TimeSpan End, float Score)>> positives, List<List<(TimeSpan End, float Score)>> negatives, double hours)
    {
        for (var step = 1; step <= 99; step++)
        {
            var threshold = step / 100.0;
            var missed = positives.Count(p => !p.Any(s => s.Score >= threshold));
            var alarms = negatives.Sum(n => Crossings(n, threshold));
            yield return new Row(condition, threshold, positives.Count, missed, alarms, hours);
        }
    }

    private static int Crossings(List<(TimeSpan End, float Score)> trace, double threshold)
    {
        var count = 0;
        TimeSpan? last = null;
        foreach (var (end, score) in trace)
        {
            if (score >= threshold && (last is null || end - last >= s_refractory))
            {
                count++;
                last = end;
            }
        }

        return count;
    }

    public static string Csv(IEnumerable<Row> rows)
    {
        var builder = new StringBuilder("condition,threshold,positives,missed,miss_rate,false_alarms,negative_hours,false_alarms_per_hour\n");
        foreach (var r in rows)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{r.Condition},{r.Threshold:0.00},{r.Positives},{r.Missed},{r.MissRate:0.0000},{r.FalseAlarms},{r.NegativeHours:0.0000},{r.FalseAlarmsPerHour:0.000}\n");
        }

        return builder.ToString();
    }

    /// <summary>Per condition: the model's own threshold, and the lowest miss rate within each false-alarm budget.</summary>
    public static string Summary(List<Row> rows, double modelThreshold)
    {
        var builder = new StringBuilder();
        foreach (var group in rows.GroupBy(r => r.Condition))
        {
            var atDefault = group.MinBy(r => Math.Abs(r.Threshold - modelThreshold))!;
            builder.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{group.Key}, threshold {atDefault.Threshold:0.00} (the model's): miss {atDefault.MissRate:P1}, {atDefault.FalseAlarms} false alarms ({atDefault.FalseAlarmsPerHour:0.00}/h)"));
            foreach (var budget in new[] { 0.5, 1, 2 })
            {
                var best = group.Where(r => r.FalseAlarmsPerHour <= budget).OrderBy(r => r.MissRate).ThenBy(r => r.Threshold).FirstOrDefault();
                builder.AppendLine(best is null
                    ? $"{group.Key}, <= {budget} false alarms/h: no operating point"
                    : string.Create(CultureInfo.InvariantCulture, $"{group.Key}, <= {budget} false alarms/h: miss {best.MissRate:P1} ({best.FalseAlarms} false alarms) at threshold {best.Threshold:0.00}"));
            }
        }

        return builder.ToString().TrimEnd();
    }

    public static byte[] Plot(List<Row> rows, string title)
    {
        var chart = new PngChart(640, 420, title);
        var palette = new[] { (220, 50, 50), (50, 120, 220), (40, 160, 60), (200, 140, 20) };
        var index = 0;
        foreach (var group in rows.GroupBy(r => r.Condition))
        {
            chart.Line([.. group.Select(r => (r.FalseAlarmsPerHour, r.MissRate))], palette[index++ % palette.Length]);
        }

        return chart.Encode();
    }
}
