using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;

namespace VoiceHub.App.Cli;

/// <summary>
/// <c>voicehub eval speech</c>: command acceptance on a speech-to-intent set, clean and with
/// noise at the benchmark's SNRs, per engine, with the real-time factor.
/// </summary>
public static class EvalSpeechCommand
{
    public static Command Create(CliIo io)
    {
        var data = new Option<string>("--data") { Description = "Dataset folder (clean/, labels.json, noise/kitchen.wav)", DefaultValueFactory = _ => DefaultDataset() };
        var intents = new Option<string>("--intents") { Description = "Intents of the dataset's domain", DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "intents", "coffee") };
        var engines = new Option<string[]>("--engine") { Description = "Engines to evaluate (pocketsphinx, whisper)", DefaultValueFactory = _ => ["pocketsphinx"] };
        var snrs = new Option<string>("--snr") { Description = "Conditions: clean and SNRs in dB, comma-separated", DefaultValueFactory = _ => "clean,24,21,18,15,12,9,6" };
        var limit = new Option<int>("--limit") { Description = "Only the first N utterances (and N recordings of --negatives)", DefaultValueFactory = _ => int.MaxValue };
        var settings = new Option<string[]>("--setting") { Description = "pocketsphinx setting KEY=VALUE (tuning)" };
        var rejection = new Option<double?>("--rejection") { Description = "Out-of-grammar rejection threshold (per-frame score)" };
        var denoise = new Option<int?>("--denoise") { Description = "SpeexDSP noise suppression in front of the engine, at most this many dB (as audio.noiseSuppression)" };
        var agc = new Option<bool>("--agc") { Description = "With --denoise: automatic gain control too" };
        var sweep = new Option<bool>("--rejection-sweep") { Description = "Decode with no out-of-grammar rejection, then report orders understood and no-command audio taken at rejection thresholds from -2 to 0 (calibration)" };
        var minimumVoice = new Option<int?>("--min-voice") { Description = "Milliseconds of voice (Silero VAD) an utterance must hold to be taken for a command, as audio.vad.minimumVoice (0: no check)" };
        var streamed = new Option<bool>("--stream") { Description = "pocketsphinx: decode as the hub does, fed while the audio arrives (normalized by a running mean of the room, not by the whole recording's)" };

        var workers = new Option<int>("--workers") { Description = "Parallel decoders", DefaultValueFactory = _ => Environment.ProcessorCount };
        var verbose = new Option<bool>("--verbose") { Description = "List every wrong utterance" };
        var heardFile = new Option<FileInfo?>("--heard") { Description = "Write what was heard in every utterance and condition to this TSV file (engine, condition, file, accepted, heard)" };
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file" };
        var negatives = new Option<string?>("--negatives") { Description = "Folder of speech that is no command (WAVs, searched recursively; \"none\": no negatives); kitchen noise and tones are added to it. Default: ../shared/wake-word-dev when present" };
        var resampler = new Option<ResamplerKind>("--resampler") { Description = "Converter for recordings not at 16 kHz: Soxr (libsoxr, as the appliance) or Wdl (NAudio's)", DefaultValueFactory = _ => ResamplerKind.Soxr };
        var command = new Command("speech", "Speech to intent accuracy, clean and in kitchen noise, per engine") { data, intents, engines, snrs, limit, settings, rejection, sweep, minimumVoice, denoise, agc, streamed, workers, verbose, heardFile, config, resampler, negatives };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "eval speech", async () =>
        {
            if (parse.GetValue(sweep) && parse.GetValue(rejection) is not null)
            {
                throw new InputException("--rejection and --rejection-sweep: the sweep decodes with no rejection and tries every threshold; give one of them");
            }

            if (parse.GetValue(minimumVoice) is < 0)
            {
                throw new InputException($"--min-voice {parse.GetValue(minimumVoice)}: milliseconds, 0 or more");
            }

            var dataset = parse.GetValue(data)!;
            var labels = SpeechEvaluation.LoadLabels(dataset).Take(parse.GetValue(limit)).ToList();
            var noise = SpeechEvaluation.Load(Path.Combine(dataset, "noise", "kitchen.wav"));
            var conditions = parse.GetValue(snrs)!.Split(',', StringSplitOptions.TrimEntries)
                .Select(c => c == "clean" ? (int?)null : int.Parse(c, CultureInfo.InvariantCulture)).ToList();
            var intentSet = IntentSet.Load(parse.GetValue(intents)!);
            using var configuration = AppConfiguration.Load(parse.GetValue(config)?.FullName);
            var speech = Enumerable.Range(0, labels.Count).Select(i => AudioFile.ReadMono16k(labels[i].File, resampler: parse.GetValue(resampler))).ToList();
            var negativeFolder = parse.GetValue(negatives) ?? (Directory.Exists(WakeCommands.SharedFolder("wake-word-dev")) ? WakeCommands.SharedFolder("wake-word-dev") : "none");
            var notCommands = NoCommandAudio(negativeFolder, noise, parse.GetValue(limit), parse.GetValue(resampler));
            var vad = configuration.Get<VadOptions>();
            if (parse.GetValue(minimumVoice) is { } milliseconds)
            {
                vad.MinimumVoice = TimeSpan.FromMilliseconds(milliseconds);
            }

            using var voice = VoiceMeter.Create(vad, problem => throw new InputException($"the voice check needs Silero VAD: {problem} (--min-voice 0 turns it off)"));
            var voiceCheck = new VoiceCheck(voice);

            if (parse.GetValue(heardFile) is { Directory: { Exists: false } missing } heardTsv)
            {
                throw new InputException($"--heard {heardTsv}: no folder {missing.FullName}");
            }

            var heardRows = new List<string> { HeardHeader };
            foreach (var engineName in parse.GetValue(engines)!)
            {
                ISpeechEngine Engine()
                {
                    var options = configuration.Get<PocketsphinxEngineOptions>();
                    foreach (var pair in parse.GetValue(settings) ?? [])
                    {
                        var equals = pair.IndexOf('=', StringComparison.Ordinal);
                        options.Settings[pair[..equals]] = pair[(equals + 1)..];
                    }

                    if (parse.GetValue(rejection) is { } threshold)
                    {
                        options.RejectionThreshold = threshold;
                    }

                    if (parse.GetValue(sweep))
                    {
                        // Every hypothesis kept with its score; the sweep applies the thresholds afterwards.
                        options.RejectionThreshold = double.NegativeInfinity;
                    }

                    return SpeechEngines.Create(engineName, configuration.Get<ModelsOptions>(), options, configuration.Get<WhisperEngineOptions>(), intentSet, DeviceRegistry.Empty);
                }

                var suppression = parse.GetValue(denoise) is { } attenuation ? new NoiseSuppressionOptions { MaxAttenuationDb = attenuation, AutomaticGain = parse.GetValue(agc) } : null;
                var outcomes = await RunAsync(Engine, parse.GetValue(workers), labels, speech, noise, conditions, suppression, parse.GetValue(streamed), voiceCheck, IntentRecognizer.Create(intentSet, DeviceRegistry.Empty), cancellationToken).ConfigureAwait(false);
                await Report(io, engineName + (parse.GetValue(streamed) && engineName == "pocketsphinx" ? " (streamed in 20 ms blocks)" : string.Empty) + (parse.GetValue(sweep) ? ", no rejection" : string.Empty)
                    + (voice is null ? ", no voice check" : $", at least {voice.Minimum.TotalMilliseconds:0} ms of voice"), conditions, outcomes, parse.GetValue(verbose)).ConfigureAwait(false);
                heardRows.AddRange(outcomes.Select(o => $"{engineName}\t{o.Condition}\t{o.File}\t{(o.Accepted ? "yes" : "no")}\t{o.Heard}"));

                var heard = notCommands.Count > 0
                    ? await HeardAsCommandsAsync(Engine, parse.GetValue(workers), notCommands, parse.GetValue(streamed), voiceCheck, IntentRecognizer.Create(intentSet, DeviceRegistry.Empty), cancellationToken).ConfigureAwait(false)
                    : [];
                if (notCommands.Count > 0)
                {
                    await ReportNoCommands(io, notCommands, [.. heard.Where(h => h.Taken)], parse.GetValue(verbose)).ConfigureAwait(false);
                }

                if (parse.GetValue(sweep))
                {
                    await ReportSweep(io, conditions, outcomes, notCommands, heard).ConfigureAwait(false);
                }
            }

            if (parse.GetValue(heardFile) is { } tsv)
            {
                await File.WriteAllLinesAsync(tsv.FullName, heardRows, cancellationToken).ConfigureAwait(false);
            }

            return CliApplication.Success;
        }));
        return command;
    }

    /// <summary>The first line of a <c>--heard</c> file (<c>voicehub adapt --text</c> reads its clean rows).</summary>
    public const string HeardHeader = "engine\tcondition\tfile\taccepted\theard";

    /// <summary>What <c>--stream</c> feeds at a time: a 20 ms block, as the hub's audio loop.</summary>
    private const int StreamBlock = AudioFile.SampleRate / 50;

    /// <summary>Room sound the noise suppressor hears before each utterance (one second).</summary>
    private const int LeadIn = AudioFile.SampleRate;

    private static async Task<List<SpeechOutcome>> RunAsync(
        Func<ISpeechEngine> createEngine, int workerCount, List<LabelledUtterance> labels, List<float[]> speech, float[] noise,
        List<int?> conditions, NoiseSuppressionOptions? suppression, bool stream, VoiceCheck voice, IntentRecognizer recognizer, CancellationToken cancellationToken)
    {
        var work = conditions.SelectMany(c => Enumerable.Range(0, labels.Count).Select(i => (Index: i, Snr: c)));
        return await OnWorkersAsync(createEngine, workerCount, work, async (engine, item) =>
        {
            var label = labels[item.Index];
            var audio = item.Snr is { } snr ? SpeechEvaluation.MixNoise(speech[item.Index], noise, snr, SpeechEvaluation.Seed(label.File, snr), speech[item.Index].Length, suppression is null ? 0 : LeadIn) : speech[item.Index];
            if (suppression is not null)
            {
                // On the appliance the suppressor has heard the room before anyone speaks: a second of it first.
                using var suppressor = new NoiseSuppressor(suppression);
                audio = item.Snr is null ? suppressor.ProcessAll([.. new float[LeadIn], .. audio])[LeadIn..] : suppressor.ProcessAll(audio)[LeadIn..];
            }

            var clock = Stopwatch.StartNew();
            var decoded = await DecodeAsync(engine, audio, stream, cancellationToken).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds; // the engine's time (the voice check is shared by the workers, and waits for them)
            var transcript = voice.Apply(decoded, audio);
            var result = transcript.IsRejected ? IntentResult.NoMatch(transcript.Text) : recognizer.RecognizeWithTemplates(transcript.Text, new Dictionary<string, string>()) ?? IntentResult.NoMatch(transcript.Text);
            var (accepted, detail) = SpeechEvaluation.Score(label, result);
            var kept = transcript.IsRejected && transcript.Score is not null ? recognizer.RecognizeWithTemplates(transcript.Text, new Dictionary<string, string>()) : result;
            var rightIfKept = kept is not null && SpeechEvaluation.Score(label, kept).Accepted;
            return new SpeechOutcome(Path.GetFileName(label.File), SpeechEvaluation.Condition(item.Snr), accepted, transcript.Text, result.Intent, transcript.Rejection ?? detail, audio.Length / 16000.0, seconds,
                transcript.Score, rightIfKept);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The whole recording at once, or (<paramref name="stream"/>, an engine that can) fed 20 ms at a time as the hub's audio loop does.</summary>
    private static async Task<Transcript> DecodeAsync(ISpeechEngine engine, float[] audio, bool stream, CancellationToken cancellationToken)
    {
        if (!stream || engine is not IStreamingSpeechEngine streaming)
        {
            return await engine.TranscribeAsync(audio, cancellationToken).ConfigureAwait(false);
        }

        using var decoding = streaming.StartDecoding();
        for (var at = 0; at < audio.Length; at += StreamBlock)
        {
            decoding.Feed(audio.AsSpan(at, Math.Min(StreamBlock, audio.Length - at)));
        }

        return await decoding.FinishAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><paramref name="measure"/> over every item, on <paramref name="workerCount"/> workers with an engine each; results in no particular order.</summary>
    private static async Task<List<TResult>> OnWorkersAsync<TItem, TResult>(Func<ISpeechEngine> createEngine, int workerCount, IEnumerable<TItem> items,
        Func<ISpeechEngine, TItem, Task<TResult>> measure, CancellationToken cancellationToken)
    {
        var work = new System.Collections.Concurrent.ConcurrentQueue<TItem>(items);
        var results = new System.Collections.Concurrent.ConcurrentBag<TResult>();
        var engines = Enumerable.Range(0, Math.Max(1, workerCount)).Select(_ => createEngine()).ToList();
        try
        {
            await Task.WhenAll(engines.Select(engine => Task.Run(async () =>
            {
                while (work.TryDequeue(out var item))
                {
                    results.Add(await measure(engine, item).ConfigureAwait(false));
                }
            }, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            engines.ForEach(e => e.Dispose());
        }

        return [.. results];
    }

    /// <summary>Audio that holds no command: the speech in <paramref name="folder"/>, stretches of the kitchen noise, and tones.</summary>
    private static List<(string Kind, string Name, float[] Audio)> NoCommandAudio(string folder, float[] noise, int limit, ResamplerKind resampler)
    {
        if (folder == "none")
        {
            return [];
        }

        if (!Directory.Exists(folder))
        {
            throw new InputException($"--negatives {folder}: no such folder");
        }

        var audio = Directory.GetFiles(folder, "*.wav", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(limit)
            .Select(f => ("speech", Path.GetRelativePath(folder, f), AudioFile.ReadMono16k(f, resampler: resampler))).ToList();
        const int stretch = 3 * AudioFile.SampleRate;
        for (var at = 0; at + stretch <= noise.Length && at / stretch < 20; at += stretch)
        {
            audio.Add(("noise", $"kitchen noise at {at / AudioFile.SampleRate} s", noise[at..(at + stretch)]));
        }

        foreach (var hertz in new[] { 250, 440, 1000, 2500 })
        {
            audio.Add(("tone", $"{hertz} Hz tone", [.. Enumerable.Range(0, stretch).Select(i => 0.2f * MathF.Sin(2 * MathF.PI * hertz * i / AudioFile.SampleRate))]));
        }

        return audio;
    }

    /// <summary>
    /// The no-command recordings whose words the templates take for a command, with the engine's
    /// score; <c>Taken</c> when the engine did not reject them either (taken for a command).
    /// </summary>
    private static async Task<List<HeardAsCommand>> HeardAsCommandsAsync(Func<ISpeechEngine> createEngine, int workerCount, List<(string Kind, string Name, float[] Audio)> audio, bool stream,
        VoiceCheck voice, IntentRecognizer recognizer, CancellationToken cancellationToken)
    {
        var heard = await OnWorkersAsync(createEngine, workerCount, Enumerable.Range(0, audio.Count), async (engine, index) =>
        {
            var transcript = voice.Apply(await DecodeAsync(engine, audio[index].Audio, stream, cancellationToken).ConfigureAwait(false), audio[index].Audio);
            var command = (!transcript.IsRejected || transcript.Score is not null) && recognizer.RecognizeWithTemplates(transcript.Text, new Dictionary<string, string>()) is { Intent: not null };
            return command ? new HeardAsCommand(index, transcript.Text, transcript.Score, !transcript.IsRejected) : null;
        }, cancellationToken).ConfigureAwait(false);
        return [.. heard.OfType<HeardAsCommand>().OrderBy(h => h.Index)];
    }

    private sealed record HeardAsCommand(int Index, string Heard, double? Score, bool Taken);

    /// <summary>
    /// The hub's check that an utterance holds a voice, after the decode (as in the hub, which has
    /// decoded while the audio arrived): too little, and the transcript is rejected. Shared by the workers.
    /// </summary>
    private sealed class VoiceCheck(VoiceMeter? meter)
    {
        private readonly Lock _gate = new();

        public Transcript Apply(Transcript transcript, float[] audio)
        {
            if (meter is null)
            {
                return transcript;
            }

            lock (_gate)
            {
                meter.Reset();
                meter.Feed(audio);
                return meter.Shortfall is { } noVoice ? Transcript.Rejected(transcript.Engine, noVoice, transcript.Elapsed) : transcript;
            }
        }
    }

    /// <summary>
    /// Orders understood per condition and no-command audio taken, at each rejection threshold:
    /// a hypothesis counts where its score is at or above the threshold.
    /// </summary>
    private static async Task ReportSweep(CliIo io, List<int?> conditions, List<SpeechOutcome> outcomes, List<(string Kind, string Name, float[] Audio)> notCommands, List<HeardAsCommand> heard)
    {
        if (outcomes.All(o => o.Score is null))
        {
            await io.Output.WriteLineAsync("rejection sweep: this engine gives no out-of-grammar score").ConfigureAwait(false);
            return;
        }

        var names = conditions.Select(SpeechEvaluation.Condition).ToList();
        var kinds = notCommands.Select(a => a.Kind).Distinct().ToList();
        await io.Output.WriteLineAsync($"rejection sweep: orders understood (%) and no-command audio taken ({string.Join("/", kinds)} of {string.Join("/", kinds.Select(k => notCommands.Count(a => a.Kind == k)))})").ConfigureAwait(false);
        await io.Output.WriteLineAsync($"{"threshold",9} {string.Join(" ", names.Select(n => $"{n,6}"))} {"noisy",6} taken").ConfigureAwait(false);
        for (var step = -20; step <= 0; step++)
        {
            var threshold = step / 10.0;
            bool Kept(double? score) => score >= threshold;
            var cells = names.Select(n => outcomes.Where(o => o.Condition == n).ToList())
                .Select(rows => SpeechEvaluation.Percent(rows.Count(o => o.RightIfKept && Kept(o.Score)), rows.Count));
            var noisy = outcomes.Where(o => o.Condition != "clean").ToList();
            var taken = kinds.Select(k => heard.Count(h => notCommands[h.Index].Kind == k && Kept(h.Score)));
            await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{threshold,9:0.0} {string.Join(" ", cells.Select(c => $"{c,6}"))} {SpeechEvaluation.Percent(noisy.Count(o => o.RightIfKept && Kept(o.Score)), noisy.Count),6} {string.Join("/", taken)}")).ConfigureAwait(false);
        }
    }

    private static async Task ReportNoCommands(CliIo io, List<(string Kind, string Name, float[] Audio)> audio, List<HeardAsCommand> accepted, bool verbose)
    {
        var kinds = audio.Select(a => a.Kind).Distinct().Select(kind =>
            $"{kind} {accepted.Count(a => audio[a.Index].Kind == kind)}/{audio.Count(a => a.Kind == kind)}");
        await io.Output.WriteLineAsync($"no command, taken for one: {accepted.Count} of {audio.Count} ({string.Join(", ", kinds)})").ConfigureAwait(false);
        if (verbose)
        {
            foreach (var taken in accepted)
            {
                await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {audio[taken.Index].Kind} {audio[taken.Index].Name}: heard \"{taken.Heard}\"{(taken.Score is { } score ? $" (score {score:0.00})" : string.Empty)}")).ConfigureAwait(false);
            }
        }
    }

    private static async Task Report(CliIo io, string engine, List<int?> conditions, List<SpeechOutcome> outcomes, bool verbose)
    {
        await io.Output.WriteLineAsync($"engine {engine}: {outcomes.Select(o => o.File).Distinct().Count()} utterances").ConfigureAwait(false);
        await io.Output.WriteLineAsync($"{"condition",-10} {"accepted",9} {"total",6} {"accuracy",9} {"RTF",7}").ConfigureAwait(false);
        foreach (var condition in conditions.Select(SpeechEvaluation.Condition))
        {
            var rows = outcomes.Where(o => o.Condition == condition).ToList();
            var rtf = rows.Sum(o => o.ProcessingSeconds) / Math.Max(1e-9, rows.Sum(o => o.AudioSeconds));
            await io.Output.WriteLineAsync($"{condition,-10} {rows.Count(o => o.Accepted),9} {rows.Count,6} {SpeechEvaluation.Percent(rows.Count(o => o.Accepted), rows.Count),9} {rtf,7:0.000}").ConfigureAwait(false);
        }

        var noisy = outcomes.Where(o => o.Condition != "clean").ToList();
        if (noisy.Count > 0)
        {
            await io.Output.WriteLineAsync($"{"noisy avg",-10} {noisy.Count(o => o.Accepted),9} {noisy.Count,6} {SpeechEvaluation.Percent(noisy.Count(o => o.Accepted), noisy.Count),9}").ConfigureAwait(false);
        }

        var total = outcomes.Sum(o => o.ProcessingSeconds);
        var audio = outcomes.Sum(o => o.AudioSeconds);
        await io.Output.WriteLineAsync($"real-time factor {total / audio:0.000} ({total:0.0} s for {audio:0.0} s of audio, {outcomes.Average(o => o.ProcessingSeconds) * 1000:0} ms per utterance of {outcomes.Average(o => o.AudioSeconds):0.0} s)").ConfigureAwait(false);
        if (verbose)
        {
            foreach (var o in outcomes.Where(o => !o.Accepted).OrderBy(o => o.Condition, StringComparer.Ordinal).ThenBy(o => o.File, StringComparer.Ordinal))
            {
                await io.Output.WriteLineAsync($"  {o.Condition} {o.File}: heard \"{o.Heard}\": {o.Detail}").ConfigureAwait(false);
            }
        }
    }

    private static string DefaultDataset()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", "speech-to-intent-dev");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return "../shared/speech-to-intent-dev";
    }
}
