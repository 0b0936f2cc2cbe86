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
        var files = new Argument<string[]>("WAV") { Arity = ArgumentArity.OneOrMore, Description = "Recordings of commands, one each (WAV; converted to 16 kHz mono)" };
        var command = new Command("adapt", "Adapts the closed-set engine's acoustic model to recordings (writes an MLLR transform)") { output, text, noise, snrs, strength, intents, devices, config, files };
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

                recordings++;
                utterances.Add(new AdaptationUtterance(file, audio, words));
                foreach (var snr in levels)
                {
                    utterances.Add(new AdaptationUtterance($"{file} at {snr} dB", SpeechEvaluation.MixNoise(audio, noiseAudio, snr, SpeechEvaluation.Seed(file, (int)snr)), words));
                }
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
