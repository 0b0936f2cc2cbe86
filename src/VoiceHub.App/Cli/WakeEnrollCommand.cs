using System.CommandLine;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Models;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub wake enroll</c>: a personal wake verifier from a few recordings of the phrase.</summary>
public static class WakeEnrollCommand
{
    public static Command Create(CliIo io)
    {
        var phrase = new Option<string>("--phrase") { Description = "The wake phrase the recordings say", Required = true };
        var output = new Option<string>("--out") { Description = "The wake model to write (FILE.wake)", Required = true };
        var synthetic = new Option<int>("--synthetic") { Description = "Also learn from this many espeak-ng renderings of the phrase (0: only the recordings)", DefaultValueFactory = _ => 40 };
        var clips = new Argument<string[]>("WAV") { Description = "Recordings of the phrase (16 kHz mono WAV, one saying each)", Arity = ArgumentArity.ZeroOrMore };
        var record = new Option<int>("--record") { Description = "Record this many sayings of the phrase from the microphone first (asked for one by one)" };
        var input = new Option<string?>("--input") { Description = "With --record: alsa:DEVICE, or a WAV of the sayings one after another (default: audio.input)" };
        var keep = new Option<string?>("--keep") { Description = "With --record: also write the recordings as WAVs into this folder" };
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file (audio input and voice activity settings)" };
        var command = new Command("enroll", "Trains a personal wake model from a few recordings of the phrase") { phrase, output, synthetic, clips, record, input, keep, config };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "wake enroll", async () =>
        {
            var text = Core.Wake.WakePhraseText.Normalize(parse.GetValue(phrase)!);
            if (text.Length == 0)
            {
                throw new InputException("--phrase has no words");
            }
            var target = parse.GetValue(output)!;
            if (!target.EndsWith(".wake", StringComparison.OrdinalIgnoreCase))
            {
                throw new InputException($"--out {target}: a wake model's name ends in .wake");
            }

            var files = parse.GetValue(clips) ?? [];
            var renderings = parse.GetValue(synthetic);
            if (files.Length == 0 && renderings <= 0 && parse.GetValue(record) <= 0)
            {
                throw new InputException("no recordings of the phrase and --synthetic 0: nothing to learn the phrase from");
            }

            var recordings = files.Select(f => new EnrollmentClip(f, AudioFile.ReadMono16k(f))).ToList();
            foreach (var clip in recordings)
            {
                clip.FindSpeech(); // every bad recording is named before any training starts
            }

            // Loaded first: missing models are told before anyone records anything.
            using var features = WakeFeatureModels.Load(WakeFeatureModels.DefaultDirectory());
            if (parse.GetValue(record) > 0)
            {
                recordings.AddRange(await RecordAsync(io, text, parse.GetValue(record), parse.GetValue(input), parse.GetValue(keep), parse.GetValue(config), cancellationToken).ConfigureAwait(false));
            }

            var model = WakeEnrollment.Train(features, text, recordings, renderings, new ModelsOptions().PocketsphinxModelDirectory,
                line => io.Error.WriteLine($"voicehub wake enroll: {line}"), cancellationToken: cancellationToken);
            model.Save(target);
            await io.Output.WriteLineAsync($"wrote {target}: \"{text}\" from {recordings.Count} recordings and {renderings} espeak-ng renderings").ConfigureAwait(false);
            return CliApplication.Success;
        }));
        return command;
    }

    /// <summary>The phrase said <paramref name="count"/> times into the microphone (or a WAV standing in for it), each asked for in turn.</summary>
    private static async Task<List<EnrollmentClip>> RecordAsync(CliIo io, string phrase, int count, string? input, string? keep, FileInfo? config, CancellationToken cancellationToken)
    {
        using var configuration = AppConfiguration.Load(config?.FullName);
        var audio = configuration.Get<AudioOptions>();
        var source = RecordingInput.Open(input, audio,
            "let it learn the phrase (Home Assistant's \"Learn wake word\", or PRESS to voicehub/<hub_id>/wake/enroll), or stop it: sudo systemctl stop voicehub");
        var recorder = new EnrollmentRecorder(audio.Vad)
        {
            Prompt = (number, total, retry) => io.Error.WriteLine(retry is null
                ? $"voicehub wake enroll: say \"{phrase}\" ({number} of {total}), then wait"
                : $"voicehub wake enroll: {retry}; say \"{phrase}\" again ({number} of {total})"),
        };
        var recorded = await recorder.RecordAsync(source, count, "recording", cancellationToken).ConfigureAwait(false);
        if (keep is not null)
        {
            RecordingInput.Keep(keep, recorded.Select((clip, index) => ($"{phrase.Replace(' ', '_')}-{DateTime.Now:yyyyMMdd-HHmmss}-{index + 1}.wav", clip.Samples)));
            await io.Output.WriteLineAsync($"kept {recorded.Count} recordings in {keep}").ConfigureAwait(false);
        }

        return recorded;
    }
}

/// <summary><c>voicehub wake bank</c>: a developer's tool that makes the negative speech bank enrollment trains against.</summary>
public static class WakeBankCommand
{
    public static Command Create(CliIo io)
    {
        var output = new Option<string>("--out") { Description = "The bank to write", Required = true };
        var files = new Argument<string[]>("WAV") { Description = "Recordings of speech with no wake phrase in it", Arity = ArgumentArity.OneOrMore };
        var command = new Command("bank", "Embeds recordings of speech that is no wake phrase into a negative speech bank (for wake enroll)") { output, files };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "wake bank", async () =>
        {
            using var features = WakeFeatureModels.Load(WakeFeatureModels.DefaultDirectory());
            var recordings = parse.GetValue(files)!.Select(f => (Path.GetFileName(f), AudioFile.ReadMono16k(f))).ToList();
            var bank = NegativeSpeechBank.Build(features, recordings);
            bank.Save(parse.GetValue(output)!);
            await io.Output.WriteLineAsync($"wrote {parse.GetValue(output)}: {recordings.Count} recordings, {bank.Entries.Sum(e => e.Embeddings.Length) / WakeFeatureModels.EmbeddingSize} embeddings").ConfigureAwait(false);
            return CliApplication.Success;
        }));
        return command;
    }
}
