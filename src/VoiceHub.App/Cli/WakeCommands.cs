using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Wake;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub wake</c> (detections in whole files) and <c>voicehub eval wake</c> (miss rate against false alarms).</summary>
public static class WakeCommands
{
    public static Command Wake(CliIo io)
    {
        var phrase = new Option<string>("--phrase") { Description = "Wake phrase (words of the pronunciation dictionary)", Required = true };
        var sensitivity = new Option<double>("--sensitivity") { Description = "0 (strict) to 1 (eager)", DefaultValueFactory = _ => new WakePhrase().Sensitivity };
        var json = new Option<bool>("--json") { Description = "One JSON object per file" };
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip the second-stage verification" };
        var files = new Argument<string[]>("WAV") { Arity = ArgumentArity.OneOrMore };
        var command = new Command("wake", "Wake-word detection over whole files") { phrase, sensitivity, json, noVerify, files };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "wake", async () =>
        {
            var value = parse.GetValue(sensitivity);
            if (value is < 0 or > 1)
            {
                throw new InputException($"--sensitivity {value.ToString(CultureInfo.InvariantCulture)} is outside 0 to 1");
            }

            var options = new WakeOptions { Phrases = [new WakePhrase { Phrase = parse.GetValue(phrase)!, Sensitivity = value }], Verify = !parse.GetValue(noVerify) };
            var models = new ModelsOptions();
            var bad = 0;
            foreach (var file in parse.GetValue(files)!)
            {
                var clock = Stopwatch.StartNew();
                List<WakeDetection> detections;
                try
                {
                    using var detector = CreateDetector(models, options);
                    detections = await DetectAsync(detector, file, cancellationToken).ConfigureAwait(false);
                }
                catch (AudioFormatException e)
                {
                    bad++;
                    await io.Error.WriteLineAsync($"voicehub wake: {CliApplication.OneLine(e.Message)}").ConfigureAwait(false);
                    continue;
                }

                var ms = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
                await io.Output.WriteLineAsync(parse.GetValue(json)
                    ? JsonSerializer.Serialize(new { file, detections = detections.Select(d => new { t = Math.Round(d.End.TotalSeconds, 2), score = Math.Round(d.Score, 3), phrase = d.Phrase }), ms }, CliJson.Options)
                    : $"{file}: {(detections.Count == 0 ? "no wake phrase" : string.Join(", ", detections.Select(d => $"\"{d.Phrase}\" at {d.End.TotalSeconds:0.00} s (score {d.Score:0.00})")))}").ConfigureAwait(false);
            }

            return bad > 0 ? CliApplication.BadInput : CliApplication.Success;
        }));
        return command;
    }

    internal static WakeWordDetector CreateDetector(ModelsOptions models, WakeOptions options)
    {
        try
        {
            return new WakeWordDetector(models.PocketsphinxModelDirectory, options);
        }
        catch (WakePhraseException e)
        {
            throw new InputException(e.Message);
        }
    }

    /// <summary>Streams a file through a detector as fast as it decodes.</summary>
    internal static async Task<List<WakeDetection>> DetectAsync(WakeWordDetector detector, string file, CancellationToken cancellationToken)
    {
        var detections = new List<WakeDetection>();
        await foreach (var block in new WavFileSource(file, TimeSpan.FromMilliseconds(20), realTime: false).ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            detections.AddRange(detector.Process(block));
        }

        // A phrase at the very end of a file: give the spotter the silence a live stream would.
        var tail = new float[320];
        var end = detections.Count > 0 ? detections[^1].End : TimeSpan.Zero;
        for (var i = 0; i < 25; i++)
        {
            detections.AddRange(detector.Process(new AudioBlock(tail, end + TimeSpan.FromMilliseconds(20 * i))));
        }

        return detections;
    }

    public static Command Evaluate(CliIo io)
    {
        var data = new Option<string>("--data") { Description = "Wake-word set: one folder of recordings per phrase", DefaultValueFactory = _ => SharedFolder("wake-word-dev") };
        var negatives = new Option<string>("--negatives") { Description = "Folder of speech without the wake phrase (the speech-to-intent utterances)", DefaultValueFactory = _ => Path.Combine(SharedFolder("speech-to-intent-dev"), "clean") };
        var phrase = new Option<string>("--phrase") { Description = "Wake phrase to evaluate (its folder holds the positives)", DefaultValueFactory = _ => "computer" };
        var sensitivities = new Option<string>("--sensitivities") { Description = "Spotter sensitivities to run", DefaultValueFactory = _ => "0.2,0.4,0.6,0.8" };
        var output = new Option<string>("--output") { Description = "Folder for the CSV and the plot", DefaultValueFactory = _ => Path.Combine(Directory.GetCurrentDirectory(), "artifacts", "eval") };
        var limit = new Option<int>("--limit") { Description = "At most N files of each kind", DefaultValueFactory = _ => int.MaxValue };
        var command = new Command("wake", "Miss rate against false alarms per hour, across sensitivities, as CSV and a plot") { data, negatives, phrase, sensitivities, output, limit };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "eval wake", async () =>
        {
            var wakePhrase = parse.GetValue(phrase)!;
            var root = parse.GetValue(data)!;
            var positives = Directory.GetFiles(Path.Combine(root, wakePhrase), "*.wav").Order(StringComparer.Ordinal).Take(parse.GetValue(limit)).ToList();
            var negativeFiles = Directory.GetDirectories(root).Where(d => Path.GetFileName(d) != wakePhrase).SelectMany(d => Directory.GetFiles(d, "*.wav"))
                .Concat(Directory.GetFiles(parse.GetValue(negatives)!, "*.wav")).Order(StringComparer.Ordinal).Take(parse.GetValue(limit)).ToList();
            if (positives.Count == 0)
            {
                throw new InputException($"{Path.Combine(root, wakePhrase)}: no recordings of \"{wakePhrase}\"");
            }

            var hours = negativeFiles.Sum(f => { using var r = WavReader.Open(f); return r.Duration.TotalHours; });
            var rows = new List<WakeEvaluation.Row>();
            foreach (var sensitivity in parse.GetValue(sensitivities)!.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)))
            {
                // Verification records its score for every candidate; its threshold is swept afterwards.
                var options = new WakeOptions { Phrases = [new WakePhrase { Phrase = wakePhrase, Sensitivity = sensitivity }], Verify = true, VerifyThreshold = double.NegativeInfinity };
                var positiveScores = await ScoresAsync(options, positives, cancellationToken).ConfigureAwait(false);
                var negativeScores = await ScoresAsync(options, negativeFiles, cancellationToken).ConfigureAwait(false);
                rows.AddRange(WakeEvaluation.Sweep(sensitivity, positiveScores, negativeScores.SelectMany(s => s).ToList(), hours));
            }

            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            var csv = Path.Combine(folder, $"wake-{wakePhrase}.csv");
            var plot = Path.Combine(folder, $"wake-{wakePhrase}.png");
            await File.WriteAllTextAsync(csv, WakeEvaluation.Csv(rows), cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(plot, WakeEvaluation.Plot(rows, wakePhrase), cancellationToken).ConfigureAwait(false);
            await io.Output.WriteLineAsync($"\"{wakePhrase}\": {positives.Count} positives, {negativeFiles.Count} negative files ({hours * 60:0.0} min)").ConfigureAwait(false);
            await io.Output.WriteLineAsync(WakeEvaluation.Summary(rows, hours)).ConfigureAwait(false);
            await io.Output.WriteLineAsync($"wrote {csv} and {plot}").ConfigureAwait(false);
            return CliApplication.Success;
        }));
        return command;
    }

    /// <summary>Per file, the verification scores of every candidate the spotter raised.</summary>
    private static async Task<List<List<double>>> ScoresAsync(WakeOptions options, List<string> files, CancellationToken cancellationToken)
    {
        var queue = new System.Collections.Concurrent.ConcurrentQueue<(int Index, string File)>(files.Select((f, i) => (i, f)));
        var results = new List<double>[files.Count];
        var models = new ModelsOptions();
        await Task.WhenAll(Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Run(async () =>
        {
            using var detector = CreateDetector(models, options);
            while (queue.TryDequeue(out var item))
            {
                detector.Reset(); // each file is a stream of its own
                results[item.Index] = [.. (await DetectAsync(detector, item.File, cancellationToken).ConfigureAwait(false)).Select(d => d.VerifyScore ?? double.PositiveInfinity)];
            }
        }, cancellationToken))).ConfigureAwait(false);
        return [.. results];
    }

    internal static string SharedFolder(string name)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", name);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine("..", "shared", name);
    }
}

/// <summary>Miss rate and false alarms per operating point, and the report formats.</summary>
public static class WakeEvaluation
{
    public sealed record Row(double Sensitivity, double? VerifyThreshold, int Positives, int Missed, int FalseAlarms, double NegativeHours)
    {
        public double MissRate => (double)Missed / Positives;

        public double FalseAlarmsPerHour => FalseAlarms / NegativeHours;
    }

    /// <summary>Operating points of one sensitivity: the spotter alone, and with verification at each threshold.</summary>
    public static IEnumerable<Row> Sweep(double sensitivity, List<List<double>> positives, List<double> negatives, double hours)
    {
        yield return new Row(sensitivity, null, positives.Count, positives.Count(p => p.Count == 0), negatives.Count, hours);
        for (var threshold = -1.0; threshold <= 1.5; threshold += 0.1)
        {
            var t = Math.Round(threshold, 2);
            yield return new Row(sensitivity, t, positives.Count, positives.Count(p => !p.Any(s => s >= t)), negatives.Count(s => s >= t), hours);
        }
    }

    public static string Csv(IEnumerable<Row> rows)
    {
        var builder = new StringBuilder("sensitivity,verify_threshold,positives,missed,miss_rate,false_alarms,negative_hours,false_alarms_per_hour\n");
        foreach (var r in rows)
        {
            builder.Append(CultureInfo.InvariantCulture, $"{r.Sensitivity},{(r.VerifyThreshold is { } t ? t.ToString(CultureInfo.InvariantCulture) : "off")},{r.Positives},{r.Missed},{r.MissRate:0.0000},{r.FalseAlarms},{r.NegativeHours:0.0000},{r.FalseAlarmsPerHour:0.000}\n");
        }

        return builder.ToString();
    }

    /// <summary>The spotter alone per sensitivity, and the best verified point within each false-alarm budget.</summary>
    public static string Summary(List<Row> rows, double hours)
    {
        var builder = new StringBuilder();
        foreach (var r in rows.Where(r => r.VerifyThreshold is null))
        {
            builder.AppendLine(string.Create(CultureInfo.InvariantCulture, $"spotter only, sensitivity {r.Sensitivity:0.0}: miss {r.MissRate:P1}, {r.FalseAlarms} false alarms ({r.FalseAlarmsPerHour:0.00}/h)"));
        }

        foreach (var budget in new[] { 0.5, 1, 2, 5 })
        {
            var best = rows.Where(r => r.VerifyThreshold is not null && r.FalseAlarmsPerHour <= budget).OrderBy(r => r.MissRate).ThenBy(r => r.FalseAlarms).FirstOrDefault();
            var line = best is null
                ? $"with verification, <= {budget} false alarms/h: no operating point"
                : string.Create(CultureInfo.InvariantCulture, $"with verification, <= {budget} false alarms/h: miss {best.MissRate:P1} ({best.FalseAlarms} false alarms in {hours * 60:0} min) at sensitivity {best.Sensitivity:0.0}, verify threshold {best.VerifyThreshold:0.0}");
            builder.AppendLine(line);
        }

        return builder.ToString().TrimEnd();
    }

    /// <summary>A DET-style plot (false alarms per hour against miss rate) as a PNG.</summary>
    public static byte[] Plot(List<Row> rows, string phrase)
    {
        var chart = new PngChart(640, 420, $"wake \"{phrase}\": miss rate vs false alarms/hour");
        var palette = new[] { (220, 50, 50), (50, 120, 220), (40, 160, 60), (200, 140, 20), (140, 60, 180) };
        var index = 0;
        foreach (var group in rows.Where(r => r.VerifyThreshold is not null).GroupBy(r => r.Sensitivity))
        {
            chart.Line([.. group.Select(r => (r.FalseAlarmsPerHour, r.MissRate))], palette[index++ % palette.Length]);
        }

        chart.Points([.. rows.Where(r => r.VerifyThreshold is null).Select(r => (r.FalseAlarmsPerHour, r.MissRate))], (0, 0, 0));
        return chart.Encode();
    }
}
