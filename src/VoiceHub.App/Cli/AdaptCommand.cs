using System.CommandLine;
using System.Globalization;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;

namespace VoiceHub.App.Cli;

/// <summary>
/// <c>voicehub adapt</c>: an MLLR transform of the closed-set engine's acoustic model, solved on
/// recordings of commands (a household's voices, its microphone and room), for
/// <c>speech.pocketsphinx.acousticAdaptation</c>.
/// </summary>
public static class AdaptCommand
{
    public static Command Create(CliIo io)
    {
        var output = new Option<string>("--out") { Description = "The transform to write (FILE.mllr)", Required = true };
        var text = new Option<FileInfo?>("--text") { Description = "What each recording says: lines of FILE<TAB>words, or an eval speech --heard file (default: what the command grammar hears in it)" };
        var noise = new Option<FileInfo?>("--noise") { Description = "Room noise (WAV) mixed into copies of each recording at the --snr levels" };
        var snrs = new Option<string>("--snr") { Description = "With --noise: the copies' signal-to-noise ratios in dB, comma-separated", DefaultValueFactory = _ => "6,12,18,24" };
        var strength = new Option<double>("--strength") { Description = "How much of the solved transform to keep: 1 all of it, 0.5 half-way to none", DefaultValueFactory = _ => 1 };
        var intents = new Option<string>("--intents") { Description = "Intents file or folder (the grammar that hears the recordings)", DefaultValueFactory = _ => Inputs.DefaultIntents() };
        var devices = new Option<FileInfo?>("--devices") { Description = "Devices file" };
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file" };
        var files = new Argument<string[]>("WAV") { Arity = ArgumentArity.ZeroOrMore, Description = "Recordings of commands, one each (WAV; converted to 16 kHz mono)" };
        var record = new Option<int>("--record") { Description = "Record this many commands from the microphone first, each asked for by its words (sentences of the command grammar)" };
        var input = new Option<string?>("--input") { Description = "With --record: alsa:DEVICE, or a WAV of the commands one after another (default: audio.input)" };
        var keep = new Option<string?>("--keep") { Description = "With --record: also write the recordings as WAVs into this folder, with their words in transcripts.tsv (for --text)" };
        var command = new Command("adapt", "Adapts the closed-set engine's acoustic model to recordings (writes an MLLR transform)") { output, text, noise, snrs, strength, intents, devices, config, files, record, input, keep };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "adapt", async () =>
        {
            if (parse.GetValue(strength) is < 0 or > 1)
            {
                throw new InputException($"--strength {parse.GetValue(strength)}: from 0 to 1");
            }

            var folder = Path.GetDirectoryName(Path.GetFullPath(parse.GetValue(output)!));
            if (folder is not null && !Directory.Exists(folder))
            {
                throw new InputException($"--out {parse.GetValue(output)}: no folder {folder}");
            }

            if (parse.GetValue(files)!.Length == 0 && parse.GetValue(record) <= 0)
            {
                throw new InputException("no recordings: give WAVs of commands, or --record N to say N commands into the microphone");
            }

            if (parse.GetValue(record) <= 0 && (parse.GetValue(input) is not null || parse.GetValue(keep) is not null))
            {
                throw new InputException("--input and --keep go with --record N (the commands to record)");
            }

            if (parse.GetValue(noise) is null && parse.GetResult(snrs) is { Implicit: false })
            {
                throw new InputException("--snr without --noise: the noise to mix in at those levels is missing");
            }

            var levels = parse.GetValue(noise) is null ? [] : parse.GetValue(snrs)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var db) ? db : throw new InputException($"--snr {s}: not a number of decibels")).ToList();
            var said = parse.GetValue(text) is { } tsv ? Transcripts(tsv.FullName) : null;
            using var configuration = AppConfiguration.Load(parse.GetValue(config)?.FullName);
            var models = configuration.Get<ModelsOptions>();
            var options = configuration.Get<PocketsphinxEngineOptions>();
            options.AcousticAdaptation = ""; // solved against the model as it ships
            var registry = parse.GetValue(devices) is { } devicesFile ? DevicesFile.Load(devicesFile.FullName) : DeviceRegistry.Empty;
            using var engine = new PocketsphinxCommandEngine(models.PocketsphinxModelDirectory, options, IntentSet.Load(parse.GetValue(intents)!), registry);
            var noiseAudio = parse.GetValue(noise) is { } noiseFile ? AudioFile.ReadMono16k(noiseFile.FullName) : null;
            if (noiseAudio is { Length: < AudioFile.SampleRate / 10 })
            {
                throw new InputException($"--noise {parse.GetValue(noise)}: {noiseAudio.Length} samples, too little noise to mix in (a tenth of a second at least)");
            }

            var utterances = new List<AdaptationUtterance>();
            var recordings = 0;
            void Add(AdaptationUtterance utterance)
            {
                recordings++;
                utterances.Add(utterance);
                foreach (var snr in levels)
                {
                    utterances.Add(utterance with
                    {
                        Name = $"{utterance.Name} at {snr} dB",
                        Audio = SpeechEvaluation.MixNoise(utterance.Audio, noiseAudio, snr, SpeechEvaluation.Seed(utterance.Name, (int)snr)),
                    });
                }
            }

            foreach (var file in parse.GetValue(files)!)
            {
                float[] audio;
                try
                {
                    audio = AudioFile.ReadMono16k(file);
                }
                catch (Exception e) when (e is AudioFormatException or IOException or UnauthorizedAccessException)
                {
                    await io.Error.WriteLineAsync($"voicehub adapt: {CliApplication.OneLine(e.Message)}: skipped").ConfigureAwait(false); // the message names the file
                    continue;
                }

                string words;
                if (said is not null)
                {
                    words = said.TryGetValue(Path.GetFileName(file), out var line) ? line : throw new InputException($"{file}: not in --text (a line of its file name, a tab and its words)");
                }
                else
                {
                    var heard = await engine.TranscribeAsync(audio, cancellationToken).ConfigureAwait(false);
                    if (heard.IsRejected || heard.Text.Length == 0)
                    {
                        await io.Error.WriteLineAsync($"voicehub adapt: {file}: skipped: no command heard ({heard.Rejection})").ConfigureAwait(false);
                        continue;
                    }

                    words = heard.Text;
                }

                Add(new AdaptationUtterance(file, audio, words));
            }

            // After the files: a mistyped one is told before anyone says a word.
            if (parse.GetValue(record) > 0)
            {
                (await RecordAsync(io, engine, parse.GetValue(record), configuration.Get<AudioOptions>(), parse.GetValue(input), parse.GetValue(keep), cancellationToken).ConfigureAwait(false)).ForEach(Add);
            }

            if (recordings == 0)
            {
                throw new InputException("no usable recording to adapt on");
            }

            long frames;
            try
            {
                // Every noisy copy lines up about as much as its recording: the least is of the recordings themselves.
                frames = await AcousticAdapter.AdaptAsync(models.PocketsphinxModelDirectory, utterances, engine.AddedWords, parse.GetValue(output)!, parse.GetValue(strength),
                    AcousticAdapter.LeastFramesAligned * (1 + levels.Count), cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                throw new InputException(e.Message);
            }

            await io.Output.WriteLineAsync($"{parse.GetValue(output)}: adapted on {recordings} recordings ({utterances.Count - recordings} noisy copies), {frames / 100.0:0} s of audio lined up with its words; "
                + "speech.pocketsphinx.acousticAdaptation uses it").ConfigureAwait(false);
            return CliApplication.Success;
        }));
        return command;
    }

    /// <summary>
    /// <paramref name="count"/> commands said into the microphone (or a WAV standing in for it), each
    /// asked for by its words: different sentences of the engine's grammar, so the recordings' words
    /// are known without decoding them.
    /// </summary>
    private static async Task<List<AdaptationUtterance>> RecordAsync(CliIo io, PocketsphinxCommandEngine engine, int count, AudioOptions audio, string? input, string? keep,
        CancellationToken cancellationToken)
    {
        var automaton = FsgCompiler.Compile(engine.Grammar.Jsgf)
            ?? throw new InputException("--record: the command grammar is not one to pick sentences from (it repeats or weighs words); give recordings and --text");
        var sentences = FsgCompiler.SampleSentences(automaton, count, new Random());
        if (sentences.Count == 0)
        {
            throw new InputException("--record: the command grammar has no sentences to ask for");
        }

        var source = RecordingInput.Open(input, audio, "stop it first: sudo systemctl stop voicehub");
        string Sentence(int number) => sentences[(number - 1) % sentences.Count]; // a grammar of few sentences asks for them again
        var recorder = new Core.Wake.Neural.EnrollmentRecorder(audio.Vad)
        {
            MaximumPhrase = LongestCommand,
            LongestSound = LongestCommand - TimeSpan.FromSeconds(0.5),
            Saying = "a command",
            Prompt = (number, total, retry) => io.Error.WriteLine(retry is null
                ? $"voicehub adapt: say \"{Sentence(number)}\" ({number} of {total}), then wait"
                : $"voicehub adapt: {retry}; say \"{Sentence(number)}\" again ({number} of {total})"),
        };
        List<Core.Wake.Neural.EnrollmentClip> clips;
        try
        {
            clips = await recorder.RecordAsync(source, count, "recording", cancellationToken).ConfigureAwait(false);
        }
        catch (Core.Wake.Neural.WakeEnrollmentException e)
        {
            throw new InputException(e.Message);
        }

        var said = clips.Select((clip, index) => new AdaptationUtterance(clip.Name, clip.Samples, Sentence(index + 1))).ToList();
        if (keep is not null)
        {
            var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
            var kept = said.Select((utterance, index) => (FileName: $"command-{stamp}-{index + 1}.wav", utterance.Audio, utterance.Text)).ToList();
            RecordingInput.Keep(keep, kept.Select(k => (k.FileName, k.Audio)));
            await File.AppendAllLinesAsync(Path.Combine(keep, TranscriptsFile), kept.Select(k => $"{k.FileName}\t{k.Text}"), cancellationToken).ConfigureAwait(false);
            await io.Output.WriteLineAsync($"kept {kept.Count} recordings in {keep}, their words in {Path.Combine(keep, TranscriptsFile)}").ConfigureAwait(false);
        }

        return said;
    }

    /// <summary>The longest a command asked for may take: more is someone talking on.</summary>
    private static readonly TimeSpan LongestCommand = TimeSpan.FromSeconds(10);

    /// <summary>What <c>--keep</c> writes beside the recordings: their words, as <c>--text</c> reads them.</summary>
    public const string TranscriptsFile = "transcripts.tsv";

    /// <summary>
    /// Lines of "FILE&lt;tab&gt;words", by file name; or an <c>eval speech --heard</c> file, whose clean
    /// rows say what was heard in each recording.
    /// </summary>
    private static Dictionary<string, string> Transcripts(string path)
    {
        var lines = File.ReadAllLines(path);
        var heard = lines.Length > 0 && lines[0] == EvalSpeechCommand.HeardHeader;
        var transcripts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (line, number) in lines.Select((l, i) => (l, i + 1)).Skip(heard ? 1 : 0).Where(l => l.l.Trim().Length > 0))
        {
            var columns = line.Split('\t');
            if (heard && columns is [_, var condition, var file, _, var words])
            {
                if (condition == "clean" && words.Trim().Length > 0)
                {
                    transcripts[file] = Words(words);
                }
            }
            else if (!heard && columns is [var name, var said] && name.Trim().Length > 0 && said.Trim().Length > 0)
            {
                transcripts[Path.GetFileName(name.Trim())] = Words(said);
            }
            else
            {
                throw new InputException($"{path}:{number}: not {(heard ? "a row of eval speech --heard" : "a file name, a tab and the words said")}");
            }
        }

        return transcripts;
    }

    private static string Words(string text) => string.Join(' ', text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
