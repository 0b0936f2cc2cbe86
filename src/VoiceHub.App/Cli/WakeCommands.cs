using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Wake;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub wake</c> (detections in whole files) and <c>voicehub eval wake</c> (miss rate against false alarms).</summary>
public static class WakeCommands
{
    public static Command Wake(CliIo io)
    {
        var phrase = new Option<string>("--phrase") { Description = "Wake phrase (any words espeak-ng can say)" };
        var model = new Option<string>("--model") { Description = "Wake model: an enrolled .wake file or an openWakeWord .onnx head" };
        var threshold = new Option<double?>("--threshold") { Description = "Score from which the phrase counts as heard (0 to 1; default: the model's, or the phrase's sensitivity)" };
        var sensitivity = new Option<double>("--sensitivity") { Description = "With --phrase: 0 (strict) to 1 (eager)", DefaultValueFactory = _ => new WakePhrase().Sensitivity };
        var json = new Option<bool>("--json") { Description = "One JSON object per file" };
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip the phrase verifier (with a model, Silero's speech check stays)" };
        var spotter = new Option<bool>("--spotter") { Description = "With --phrase: the pocketsphinx keyword spotter instead of the phrase's neural model" };
        var files = new Argument<string[]>("WAV") { Arity = ArgumentArity.OneOrMore };
        var command = new Command("wake", "Wake-word detection over whole files") { phrase, model, threshold, sensitivity, json, noVerify, spotter, files };
        command.Subcommands.Add(WakeEnrollCommand.Create(io));
        command.Subcommands.Add(WakeBankCommand.Create(io));
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "wake", async () =>
        {
            var value = parse.GetValue(sensitivity);
            if (value is < 0 or > 1)
            {
                throw new InputException($"--sensitivity {value.ToString(CultureInfo.InvariantCulture)} is outside 0 to 1");
            }

            if (parse.GetValue(threshold) is { } t && t is < 0 or > 1)
            {
                throw new InputException($"--threshold {t.ToString(CultureInfo.InvariantCulture)} is outside 0 to 1");
            }

            var modelFile = parse.GetValue(model);
            var phraseText = parse.GetValue(phrase);
            if ((modelFile is null) == (phraseText is null))
            {
                throw new InputException("give --phrase TEXT or --model FILE (one of them)");
            }

            var options = new WakeOptions
            {
                Phrases = phraseText is null ? [] : [new WakePhrase { Phrase = phraseText, Sensitivity = value }],
                Verify = !parse.GetValue(noVerify),
                Model = modelFile,
                ModelThreshold = parse.GetValue(threshold),
                Neural = !parse.GetValue(spotter),
            };
            var models = new ModelsOptions();
            var bad = 0;
            using var detector = CreateDetector(models, options, line => io.Error.WriteLine($"voicehub wake: {line}"), cancellationToken);
            foreach (var file in parse.GetValue(files)!)
            {
                var clock = Stopwatch.StartNew();
                List<WakeDetection> detections;
                try
                {
                    detector.Reset();
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

    internal static IWakeDetector CreateDetector(ModelsOptions models, WakeOptions options, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return WakeDetectors.Create(options, models, progress, progress is null ? null : line => progress($"warning: {line}"), cancellationToken);
        }
        catch (WakePhraseException e)
        {
            throw new InputException(e.Message);
        }
        catch (WakeModelException e)
        {
            throw new InputException(e.Message);
        }
    }

    /// <summary>Streams a file through a detector as fast as it decodes.</summary>
    internal static async Task<List<WakeDetection>> DetectAsync(IWakeDetector detector, string file, CancellationToken cancellationToken)
    {
        var detections = new List<WakeDetection>();
        var end = TimeSpan.Zero;
        await foreach (var block in new WavFileSource(file, TimeSpan.FromMilliseconds(20), realTime: false).ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            detections.AddRange(detector.Process(block));
            end = block.End;
        }

        detections.AddRange(FeedTail(detector, end));
        return detections;
    }

    /// <summary>Detections in audio already in memory (with its tail, see <see cref="WakeEvaluation.Prepare"/>), fed in 20 ms blocks as a live stream would be.</summary>
    internal static List<WakeDetection> Detect(IWakeDetector detector, float[] audio)
    {
        var detections = new List<WakeDetection>();
        const int block = 320;
        for (var at = 0; at < audio.Length; at += block)
        {
            detections.AddRange(detector.Process(new AudioBlock(audio.AsMemory(at, Math.Min(block, audio.Length - at)), AudioFile.Time(at))));
        }

        return detections;
    }

    /// <summary>A phrase at the very end of a file: give the detector the second of quiet a live stream would.</summary>
    private static List<WakeDetection> FeedTail(IWakeDetector detector, TimeSpan end)
    {
        var detections = new List<WakeDetection>();
        var tail = new float[320];
        for (var i = 0; i < 50; i++)
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
        var model = new Option<string>("--model") { Description = "Evaluate this wake model (.wake or .onnx) instead of the phrase spotter" };
        var enroll = new Option<int>("--enroll") { Description = "Enroll a wake model from the first N recordings of the phrase and evaluate it on the rest (0: no enrollment)" };
        var synthetic = new Option<int>("--synthetic") { Description = "With --enroll: espeak-ng renderings of the phrase to learn from too", DefaultValueFactory = _ => 40 };
        var snrs = new Option<string>("--snr") { Description = "With a wake model: conditions, \"clean\" and SNRs in dB with the dataset's kitchen noise", DefaultValueFactory = _ => "clean,10" };
        var verifyModel = new Option<bool>("--verify") { Description = "With a wake model: also report its candidates checked by Silero VAD and the phrase verifier" };
        var spotter = new Option<bool>("--spotter") { Description = "Evaluate the pocketsphinx keyword spotter across --sensitivities (default: the phrase's neural model and its checks)" };
        var verbose = new Option<bool>("--verbose") { Description = "With the verifier: list the recordings missed and the false alarms at the model's own threshold and the default verify threshold" };
        var command = new Command("wake", "Miss rate against false alarms per hour, across sensitivities, as CSV and a plot") { data, negatives, phrase, sensitivities, output, limit, model, enroll, synthetic, snrs, verifyModel, spotter, verbose };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "eval wake", async () =>
        {
            var wakePhrase = parse.GetValue(phrase)!;
            var root = parse.GetValue(data)!;
            if (new[] { Path.Combine(root, wakePhrase), parse.GetValue(negatives)! }.FirstOrDefault(f => !Directory.Exists(f)) is { } missing)
            {
                throw new InputException($"{missing}: no such folder (--data holds a folder of recordings per phrase, --negatives speech without the phrase)");
            }

            var positives = Directory.GetFiles(Path.Combine(root, wakePhrase), "*.wav").Order(StringComparer.Ordinal).Take(parse.GetValue(limit)).ToList();
            var negativeFiles = Directory.GetDirectories(root).Where(d => Path.GetFileName(d) != wakePhrase).SelectMany(d => Directory.GetFiles(d, "*.wav"))
                .Concat(Directory.GetFiles(parse.GetValue(negatives)!, "*.wav")).Order(StringComparer.Ordinal).Take(parse.GetValue(limit)).ToList();
            if (positives.Count == 0)
            {
                throw new InputException($"{Path.Combine(root, wakePhrase)}: no recordings of \"{wakePhrase}\"");
            }

            var hours = negativeFiles.Sum(f => { using var r = WavReader.Open(f); return r.Duration.TotalHours; });
            if (!parse.GetValue(spotter))
            {
                // Speech the verifiers were trained against cannot measure their false alarms.
                var trained = NegativeSpeechBank.LoadDefault()?.Recordings.ToHashSet(StringComparer.Ordinal) ?? [];
                var excluded = negativeFiles.RemoveAll(f => trained.Contains(Path.GetFileName(f)));
                hours = negativeFiles.Sum(f => { using var r = WavReader.Open(f); return r.Duration.TotalHours; });
                await io.Output.WriteLineAsync($"{excluded} negative files left out: they are in the negative speech bank enrollment trains against").ConfigureAwait(false);
                var noiseFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(parse.GetValue(negatives)!))!, "noise", "kitchen.wav");
                var modelFile = parse.GetValue(model);
                if (modelFile is null && parse.GetValue(enroll) == 0)
                {
                    // The --phrase path: the phrase's own model (shipped, trained before, or trained now), always with its checks.
                    var models = new ModelsOptions();
                    using var features = WakeFeatureModels.Load(WakeFeatureModels.DefaultDirectory());
                    using var phraseModel = PhraseWakeModels.GetOrTrain(wakePhrase, features, models, line => io.Error.WriteLine($"voicehub eval wake: {line}"), cancellationToken);
                    modelFile = Path.Combine(parse.GetValue(output)!, PhraseWakeModels.FileName(wakePhrase));
                    Directory.CreateDirectory(parse.GetValue(output)!);
                    phraseModel.Save(modelFile);
                }

                return await EvaluateModelAsync(io, wakePhrase, modelFile, parse.GetValue(enroll), parse.GetValue(synthetic), parse.GetValue(verifyModel) || parse.GetValue(model) is null, positives, negativeFiles, hours,
                    parse.GetValue(snrs)!, noiseFile, parse.GetValue(output)!, parse.GetValue(verbose), cancellationToken).ConfigureAwait(false);
            }

            var rows = new List<WakeEvaluation.Row>();
            foreach (var sensitivity in parse.GetValue(sensitivities)!.Split(',').Select(s => double.Parse(s, CultureInfo.InvariantCulture)))
            {
                // Verification records its score for every candidate; its threshold is swept afterwards.
                var options = new WakeOptions { Phrases = [new WakePhrase { Phrase = wakePhrase, Sensitivity = sensitivity }], Verify = true, VerifyThreshold = double.NegativeInfinity, Neural = false, Refractory = TimeSpan.Zero };
                var positiveScores = await ScoresAsync(options, positives, cancellationToken).ConfigureAwait(false);
                var negativeScores = await ScoresAsync(options, negativeFiles, cancellationToken).ConfigureAwait(false);
                rows.AddRange(WakeEvaluation.SweepVerified(string.Create(CultureInfo.InvariantCulture, $"sensitivity {sensitivity:0.0#}"), sensitivity, positiveScores, negativeScores, hours));
            }

            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            var csv = Path.Combine(folder, $"wake-{wakePhrase}.csv");
            var plot = Path.Combine(folder, $"wake-{wakePhrase}.png");
            await File.WriteAllTextAsync(csv, WakeEvaluation.Csv(rows), cancellationToken).ConfigureAwait(false);
            await File.WriteAllBytesAsync(plot, WakeEvaluation.Plot(rows, $"wake \"{wakePhrase}\": miss rate vs false alarms/hour"), cancellationToken).ConfigureAwait(false);
            await io.Output.WriteLineAsync($"\"{wakePhrase}\": {positives.Count} positives, {negativeFiles.Count} negative files ({hours * 60:0.0} min); {WakeEvaluation.Resolution(hours)}").ConfigureAwait(false);
            await io.Output.WriteLineAsync(WakeEvaluation.VerifiedSummary(rows, hours)).ConfigureAwait(false);
            await io.Output.WriteLineAsync($"wrote {csv} and {plot}").ConfigureAwait(false);
            return CliApplication.Success;
        }));
        return command;
    }

    private static async Task<int> EvaluateModelAsync(CliIo io, string phrase, string? modelFile, int enroll, int renderings, bool verify, List<string> positives, List<string> negativeFiles,
        double hours, string conditions, string noiseFile, string folder, bool verbose, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var clock = Stopwatch.StartNew();
        if (enroll > 0)
        {
            if (enroll >= positives.Count)
            {
                throw new InputException($"--enroll {enroll}: only {positives.Count} recordings of \"{phrase}\" (some must be left to evaluate on)");
            }

            var clips = positives.Take(enroll).Select(f => new EnrollmentClip(f, AudioFile.ReadMono16k(f))).ToList();
            positives = positives.Skip(enroll).ToList();
            using var features = WakeFeatureModels.Load(WakeFeatureModels.DefaultDirectory());
            modelFile = Path.Combine(folder, $"enrolled-{phrase.Replace(' ', '_')}-{enroll}.wake");
            WakeEnrollment.Train(features, phrase, clips, renderings, new ModelsOptions().PocketsphinxModelDirectory, line => io.Error.WriteLine($"voicehub eval wake: {line}"), cancellationToken: cancellationToken).Save(modelFile);
            await io.Output.WriteLineAsync($"enrolled from {enroll} recordings and {renderings} renderings in {clock.Elapsed.TotalSeconds:0.0} s: {modelFile}").ConfigureAwait(false);
        }

        double modelThreshold;
        using (var scorer = WakeModels.Open(modelFile!))
        {
            modelThreshold = scorer.DefaultThreshold;
        }

        // The kitchen noise is read only when a noisy condition asks for it.
        var noise = conditions.Split(',').Any(c => c.Trim() != "clean") ? AudioFile.ReadMono16k(noiseFile) : null;
        var rows = new List<WakeEvaluation.Row>();
        var scoring = Stopwatch.StartNew();
        var audioSeconds = 0.0;
        foreach (var condition in conditions.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            double? snr = condition == "clean" ? null : double.TryParse(condition, CultureInfo.InvariantCulture, out var db) ? db : throw new InputException($"--snr {condition}: \"clean\" or a number of dB");
            var name = snr is null ? "clean" : $"{snr} dB";
            var positiveScores = await WakeEvaluation.ScoreAsync(modelFile!, positives, noise, snr, cancellationToken).ConfigureAwait(false);
            var negativeScores = await WakeEvaluation.ScoreAsync(modelFile!, negativeFiles, noise, snr, cancellationToken).ConfigureAwait(false);
            audioSeconds += positiveScores.Concat(negativeScores).Sum(t => t.Count * 0.08);
            rows.AddRange(WakeEvaluation.SweepModel(name, positiveScores, negativeScores, hours));
            if (verify)
            {
                // The model's candidates at a few thresholds, each checked by Silero VAD and the phrase verifier, whose threshold is swept.
                var verified = new List<WakeEvaluation.Row>();
                // The hub's defaults: the model's own threshold (a phrase model's is its default sensitivity's), the default verify threshold.
                var defaults = new WakeOptions();
                foreach (var candidateThreshold in new[] { 0.5, 0.7, 0.9 })
                {
                    var options = new WakeOptions { Model = modelFile, ModelThreshold = candidateThreshold, Verify = true, VerifyThreshold = double.NegativeInfinity, Refractory = TimeSpan.Zero };
                    var p = await ScoresAsync(options, positives, cancellationToken, noise, snr).ConfigureAwait(false);
                    var n = await ScoresAsync(options, negativeFiles, cancellationToken, noise, snr).ConfigureAwait(false);
                    verified.AddRange(WakeEvaluation.SweepVerified(string.Create(CultureInfo.InvariantCulture, $"model threshold {candidateThreshold:0.0#}"), candidateThreshold, p, n, hours));
                    if (verbose && Math.Abs(candidateThreshold - modelThreshold) < 1e-9)
                    {
                        foreach (var line in WakeEvaluation.Mistakes(name, positives, p, negativeFiles, n, defaults.VerifyThreshold))
                        {
                            await io.Output.WriteLineAsync(line).ConfigureAwait(false);
                        }
                    }
                }

                await io.Output.WriteLineAsync($"{name}, the model's candidates with speech checked by Silero VAD (\"unverified\"), then by the phrase verifier:\n{WakeEvaluation.VerifiedSummary(verified, hours)}").ConfigureAwait(false);
                var asShipped = verified.FirstOrDefault(r => Math.Abs(r.Threshold - modelThreshold) < 1e-9 && r.VerifyThreshold is { } v && Math.Abs(v - defaults.VerifyThreshold) < 1e-9);
                if (asShipped is not null)
                {
                    await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{name}, default settings (threshold {asShipped.Threshold:0.00}, verify threshold {asShipped.VerifyThreshold:0.0}): miss {asShipped.MissRate:P1}, {asShipped.FalseAlarms} false alarms ({asShipped.FalseAlarmsPerHour:0.00}/h)")).ConfigureAwait(false);
                }
                await File.WriteAllTextAsync(Path.Combine(folder, $"wake-{phrase.Replace(' ', '_')}-verified-{name.Replace(' ', '_')}.csv"), WakeEvaluation.Csv(verified), cancellationToken).ConfigureAwait(false);
            }
        }

        var stem = Path.Combine(folder, $"wake-{phrase.Replace(' ', '_')}-{Path.GetFileNameWithoutExtension(modelFile)}");
        await File.WriteAllTextAsync(stem + ".csv", WakeEvaluation.Csv(rows), cancellationToken).ConfigureAwait(false);
        await File.WriteAllBytesAsync(stem + ".png", WakeEvaluation.Plot(rows, $"wake \"{phrase}\" ({Path.GetFileName(modelFile)}): miss rate vs false alarms/hour"), cancellationToken).ConfigureAwait(false);
        await io.Output.WriteLineAsync($"\"{phrase}\" with {Path.GetFileName(modelFile)}: {positives.Count} positives, {negativeFiles.Count} negative files ({hours * 60:0.0} min); {WakeEvaluation.Resolution(hours)}").ConfigureAwait(false);
        await io.Output.WriteLineAsync(WakeEvaluation.ModelSummary(rows, modelThreshold)).ConfigureAwait(false);
        await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"scoring: {audioSeconds / 60:0.0} min of audio in {scoring.Elapsed.TotalSeconds:0.0} s on {Environment.ProcessorCount} threads (real-time factor {scoring.Elapsed.TotalSeconds * Environment.ProcessorCount / audioSeconds:0.000} per core)")).ConfigureAwait(false);
        await io.Output.WriteLineAsync($"wrote {stem}.csv and {stem}.png").ConfigureAwait(false);
        return CliApplication.Success;
    }

    /// <summary>
    /// Per file, every candidate the detector raised with its verification score. The options give no
    /// refractory time (the sweep applies the hub's), so each candidate is checked, as the hub checks
    /// the next one after turning one down.
    /// </summary>
    private static async Task<List<List<(TimeSpan End, double Score)>>> ScoresAsync(WakeOptions options, List<string> files, CancellationToken cancellationToken, float[]? noise = null, double? snrDb = null)
    {
        var models = new ModelsOptions();
        return await WakeEvaluation.PerFileAsync(files, () => CreateDetector(models, options, cancellationToken: cancellationToken), (detector, index, file) =>
        {
            detector.Reset();
            return Detect(detector, WakeEvaluation.Prepare(file, noise, snrDb, index)).Select(d => (d.End, d.VerifyScore ?? double.PositiveInfinity)).ToList();
        }, cancellationToken).ConfigureAwait(false);
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
