using System.Globalization;
using System.Text;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.App.Cli;

/// <summary>
/// <c>eval wake</c>: scores over every positive and negative file, clean and with noise mixed in,
/// swept over thresholds into miss rate against false alarms per hour, and the report formats.
/// A wake model's curve is its threshold swept (a false alarm: a crossing, with the detector's 2 s
/// refractory time); with its checks, and the spotter's per sensitivity, the verifier's threshold
/// is swept over every candidate, replayed as the hub decides (see <see cref="SweepVerified"/>).
/// </summary>
public static class WakeEvaluation
{
    /// <summary>One operating point of a curve (a noise condition, or a spotter sensitivity).</summary>
    /// <param name="Threshold">The model's threshold, or the spotter's sensitivity.</param>
    /// <param name="VerifyThreshold">The phrase verifier's threshold; null: candidates unchecked.</param>
    public sealed record Row(string Curve, double Threshold, double? VerifyThreshold, int Positives, int Missed, int FalseAlarms, double NegativeHours)
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

    /// <summary>A wake model's curve: its threshold from 0.01 to 0.99.</summary>
    public static IEnumerable<Row> SweepModel(string condition, List<List<(TimeSpan End, float Score)>> positives, List<List<(TimeSpan End, float Score)>> negatives, double hours)
    {
        for (var step = 1; step <= 99; step++)
        {
            var threshold = step / 100.0;
            var missed = positives.Count(p => !p.Any(s => s.Score >= threshold));
            var alarms = negatives.Sum(n => Detections(n.Select(s => (s.End, (double)s.Score)), threshold));
            yield return new Row(condition, threshold, null, positives.Count, missed, alarms, hours);
        }
    }

    /// <summary>
    /// The candidates of one operating point (a spotter's sensitivity, a model's threshold), each file's
    /// every candidate with its verification score: unchecked, then with the verifier's threshold from
    /// -1 to 1.5. As in the hub, a candidate turned down leaves the next one free to wake, and one
    /// accepted silences the others for the refractory time.
    /// </summary>
    public static IEnumerable<Row> SweepVerified(string curve, double threshold, List<List<(TimeSpan End, double Score)>> positives, List<List<(TimeSpan End, double Score)>> negatives, double hours)
    {
        yield return RowAt(double.NegativeInfinity, null);
        for (var verify = -1.0; verify <= 1.5; verify += 0.1)
        {
            var t = Math.Round(verify, 2);
            yield return RowAt(t, t);
        }

        Row RowAt(double verifyThreshold, double? shownThreshold) =>
            new(curve, threshold, shownThreshold, positives.Count, positives.Count(p => Detections(p, verifyThreshold) == 0), negatives.Sum(n => Detections(n, verifyThreshold)), hours);
    }

    /// <summary>Detections at <paramref name="threshold"/>: scores reaching it, those within the refractory time of the last one left out.</summary>
    private static int Detections(IEnumerable<(TimeSpan End, double Score)> trace, double threshold) => Accepted(trace, threshold).Count();

    private static IEnumerable<(TimeSpan End, double Score)> Accepted(IEnumerable<(TimeSpan End, double Score)> trace, double threshold)
    {
        TimeSpan? last = null;
        foreach (var (end, score) in trace)
        {
            if (score >= threshold && (last is null || end - last >= s_refractory))
            {
                last = end;
                yield return (end, score);
            }
        }
    }

    /// <summary>
    /// A line per positive missed (with its best candidate's verification score, if any) and per false
    /// alarm (where, and its score) at <paramref name="verifyThreshold"/>: what a next change has to fix.
    /// </summary>
    public static IEnumerable<string> Mistakes(string condition, IReadOnlyList<string> positiveFiles, List<List<(TimeSpan End, double Score)>> positives,
        IReadOnlyList<string> negativeFiles, List<List<(TimeSpan End, double Score)>> negatives, double verifyThreshold)
    {
        for (var i = 0; i < positives.Count; i++)
        {
            if (Detections(positives[i], verifyThreshold) == 0)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"  {condition} missed {Path.GetFileName(positiveFiles[i])}: ") + (positives[i].Count == 0
                    ? "no candidate"
                    : string.Create(CultureInfo.InvariantCulture, $"{positives[i].Count} candidates, best verify score {positives[i].Max(c => c.Score):0.00}"));
            }
        }

        for (var i = 0; i < negatives.Count; i++)
        {
            foreach (var (end, score) in Accepted(negatives[i], verifyThreshold))
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"  {condition} false alarm in {Path.GetFileName(Path.GetDirectoryName(negativeFiles[i]))}/{Path.GetFileName(negativeFiles[i])} at {end.TotalSeconds:0.00} s: verify score {score:0.00}");
            }
        }
    }

    public static string Csv(IEnumerable<Row> rows)
    {
        var builder = new StringBuilder("curve,threshold,verify_threshold,positives,missed,miss_rate,false_alarms,negative_hours,false_alarms_per_hour\n");
        foreach (var r in rows)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{r.Curve},{r.Threshold:0.00},{(r.VerifyThreshold is { } t ? t.ToString(CultureInfo.InvariantCulture) : "off")},{r.Positives},{r.Missed},{r.MissRate:0.0000},{r.FalseAlarms},{r.NegativeHours:0.0000},{r.FalseAlarmsPerHour:0.000}\n");
        }

        return builder.ToString();
    }

    /// <summary>
    /// What the negatives can show: with none of its false alarms in them, a detector may still wake
    /// up to three times per negative duration (the 95% bound for a count of zero), so a budget below
    /// that is met only as far as they can tell.
    /// </summary>
    public static string Resolution(double negativeHours) =>
        string.Create(CultureInfo.InvariantCulture, $"no false alarm in them bounds the rate only below {3 / negativeHours:0.#}/h (95%)");

    /// <summary>The lowest miss rate within a false-alarm budget (fewest false alarms among equals).</summary>
    private static Row? BestWithin(IEnumerable<Row> rows, double alarmsPerHour) =>
        rows.Where(r => r.FalseAlarmsPerHour <= alarmsPerHour).OrderBy(r => r.MissRate).ThenBy(r => r.FalseAlarms).ThenBy(r => r.Threshold).FirstOrDefault();

    /// <summary>Per condition: the model's own threshold, and the best point within each false-alarm budget.</summary>
    public static string ModelSummary(List<Row> rows, double modelThreshold)
    {
        var builder = new StringBuilder();
        foreach (var group in rows.GroupBy(r => r.Curve))
        {
            var atDefault = group.MinBy(r => Math.Abs(r.Threshold - modelThreshold))!;
            builder.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{group.Key}, threshold {atDefault.Threshold:0.00} (the model's): miss {atDefault.MissRate:P1}, {atDefault.FalseAlarms} false alarms ({atDefault.FalseAlarmsPerHour:0.00}/h)"));
            foreach (var budget in new[] { 0.5, 1, 2 })
            {
                builder.AppendLine(BestWithin(group, budget) is { } best
                    ? string.Create(CultureInfo.InvariantCulture, $"{group.Key}, <= {budget} false alarms/h: miss {best.MissRate:P1} ({best.FalseAlarms} false alarms) at threshold {best.Threshold:0.00}")
                    : $"{group.Key}, <= {budget} false alarms/h: no operating point");
            }
        }

        return builder.ToString().TrimEnd();
    }

    /// <summary>Each curve's candidates unverified, and the best verified point within each false-alarm budget.</summary>
    public static string VerifiedSummary(List<Row> rows, double hours)
    {
        var builder = new StringBuilder();
        foreach (var r in rows.Where(r => r.VerifyThreshold is null))
        {
            builder.AppendLine(string.Create(CultureInfo.InvariantCulture, $"unverified, {r.Curve}: miss {r.MissRate:P1}, {r.FalseAlarms} false alarms ({r.FalseAlarmsPerHour:0.00}/h)"));
        }

        foreach (var budget in new[] { 0.5, 1, 2, 5 })
        {
            builder.AppendLine(BestWithin(rows.Where(r => r.VerifyThreshold is not null), budget) is { } best
                ? string.Create(CultureInfo.InvariantCulture, $"with verification, <= {budget} false alarms/h: miss {best.MissRate:P1} ({best.FalseAlarms} false alarms in {hours * 60:0} min) at {best.Curve}, verify threshold {best.VerifyThreshold:0.0}")
                : $"with verification, <= {budget} false alarms/h: no operating point");
        }

        return builder.ToString().TrimEnd();
    }

    /// <summary>
    /// A DET-style plot (false alarms per hour against miss rate) as a PNG: a line per curve, and the
    /// spotter's unchecked candidates as points.
    /// </summary>
    public static byte[] Plot(List<Row> rows, string title)
    {
        var chart = new PngChart(640, 420, title);
        var palette = new[] { (220, 50, 50), (50, 120, 220), (40, 160, 60), (200, 140, 20), (140, 60, 180) };
        var index = 0;
        foreach (var curve in rows.GroupBy(r => r.Curve))
        {
            var swept = curve.Any(r => r.VerifyThreshold is not null) ? curve.Where(r => r.VerifyThreshold is not null) : curve;
            chart.Line([.. swept.Select(r => (r.FalseAlarmsPerHour, r.MissRate))], palette[index++ % palette.Length]);
        }

        var spotterOnly = rows.Where(r => r.VerifyThreshold is null && rows.Any(o => o.Curve == r.Curve && o.VerifyThreshold is not null));
        chart.Points([.. spotterOnly.Select(r => (r.FalseAlarmsPerHour, r.MissRate))], (0, 0, 0));
        return chart.Encode();
    }
}
