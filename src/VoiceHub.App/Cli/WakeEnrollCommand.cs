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
        var command = new Command("enroll", "Trains a personal wake model from a few recordings of the phrase") { phrase, output, synthetic, clips };
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
            if (files.Length == 0 && renderings <= 0)
            {
                throw new InputException("no recordings of the phrase and --synthetic 0: nothing to learn the phrase from");
            }

            var recordings = files.Select(f => new EnrollmentClip(f, AudioFile.ReadMono16k(f))).ToList();
            foreach (var clip in recordings)
            {
                clip.FindSpeech(); // every bad recording is named before any training starts
            }

            using var features = WakeFeatureModels.Load(WakeFeatureModels.DefaultDirectory());
            var model = WakeEnrollment.Train(features, text, recordings, renderings, new ModelsOptions().PocketsphinxModelDirectory,
                line => io.Error.WriteLine($"voicehub wake enroll: {line}"), cancellationToken: cancellationToken);
            model.Save(target);
            await io.Output.WriteLineAsync($"wrote {target}: \"{text}\" from {recordings.Count} recordings and {renderings} espeak-ng renderings").ConfigureAwait(false);
            return CliApplication.Success;
        }));
        return command;
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
