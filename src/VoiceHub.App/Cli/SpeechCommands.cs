using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;
using VoiceHub.Native;

namespace VoiceHub.App.Cli;

/// <summary>
/// <c>voicehub transcribe</c> (speech to text) and <c>voicehub recognize</c> (speech to intent):
/// each WAV is one utterance; one result per file, in order; a bad file is one error line and the
/// others still run.
/// </summary>
public static class SpeechCommands
{
    public static Command Transcribe(CliIo io)
    {
        var options = new CommonOptions();
        var command = new Command("transcribe", "Speech to text");
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "transcribe", async () =>
        {
            using var setup = options.Build(parse);
            return await EachFile(io, "transcribe", parse.GetValue(options.Files)!, async file =>
            {
                var clock = Stopwatch.StartNew();
                var transcript = await setup.Engine.TranscribeAsync(AudioFile.ReadMono16k(file, Warner(io, "transcribe")), cancellationToken).ConfigureAwait(false);
                var ms = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
                if (parse.GetValue(options.Json))
                {
                    return JsonSerializer.Serialize(new { file, text = transcript.Text, engine = transcript.Engine, ms, rejected = transcript.Rejection, confidence = Math.Round(transcript.Confidence, 3), score = transcript.Score }, CliJson.Options);
                }

                return transcript.IsRejected ? $"{file}: (nothing understood: {transcript.Rejection})" : $"{file}: {transcript.Text}";
            }).ConfigureAwait(false);
        }));
        return command;
    }

    public static Command Recognize(CliIo io)
    {
        var options = new CommonOptions();
        var context = new Option<string[]>("--context") { Description = "Speaker context, e.g. area=Kitchen" };
        var command = new Command("recognize", "Speech to intent (each file is one utterance; no wake word needed)") { context };
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "recognize", async () =>
        {
            using var setup = options.Build(parse);
            var speaker = Inputs.Context(parse.GetValue(context));
            var recognizer = IntentRecognizer.Create(setup.Intents, setup.Registry);
            return await EachFile(io, "recognize", parse.GetValue(options.Files)!, async file =>
            {
                var clock = Stopwatch.StartNew();
                var transcript = await setup.Engine.TranscribeAsync(AudioFile.ReadMono16k(file, Warner(io, "recognize")), cancellationToken).ConfigureAwait(false);
                var result = transcript.IsRejected
                    ? IntentResult.NoMatch(transcript.Text, "Sorry, I didn't catch that.")
                    : await recognizer.RecognizeAsync(transcript.Text, speaker, cancellationToken).ConfigureAwait(false);
                var ms = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
                if (parse.GetValue(options.Json))
                {
                    return JsonSerializer.Serialize(new
                    {
                        file,
                        text = transcript.Text,
                        intent = result.Intent,
                        slots = result.Slots,
                        targets = result.Targets,
                        source = result.Source,
                        engine = transcript.Engine,
                        ms,
                        status = result.Status,
                        response = result.Response,
                        rejected = transcript.Rejection,
                    }, CliJson.Options);
                }

                return $"{file}: \"{transcript.Text}\" -> {result.Intent ?? "(no intent)"} [{string.Join(", ", result.Slots.Select(kv => $"{kv.Key}={kv.Value}"))}] \"{result.Response}\"";
            }).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>A file read despite a problem is said on stderr, and its result still goes to stdout.</summary>
    private static Action<string> Warner(CliIo io, string verb) => warning => io.Error.WriteLine($"voicehub {verb}: warning: {CliApplication.OneLine(warning)}");

    /// <summary>Runs one file at a time; a file that cannot be read is reported and skipped.</summary>
    private static async Task<int> EachFile(CliIo io, string verb, string[] files, Func<string, Task<string>> run)
    {
        var bad = 0;
        foreach (var file in files)
        {
            try
            {
                await io.Output.WriteLineAsync(await run(file).ConfigureAwait(false)).ConfigureAwait(false);
            }
            catch (AudioFormatException e)
            {
                bad++;
                await io.Error.WriteLineAsync($"voicehub {verb}: {CliApplication.OneLine(e.Message)}").ConfigureAwait(false);
            }
        }

        return bad > 0 ? CliApplication.BadInput : CliApplication.Success;
    }

    /// <summary>The options both verbs share, and the engine they build.</summary>
    private sealed class CommonOptions
    {
        public Option<string?> Engine { get; } = new("--engine") { Description = "auto (whisper when its model is installed), whisper or pocketsphinx" };

        public Option<string?> Model { get; } = new("--model") { Description = "whisper: a ggml model file; pocketsphinx: an acoustic model folder" };

        public Option<string> Intents { get; } = new("--intents") { Description = "Intents file or folder (the closed-set grammar)", DefaultValueFactory = _ => Inputs.DefaultIntents() };

        public Option<FileInfo?> Devices { get; } = new("--devices") { Description = "Devices file" };

        public Option<bool> Json { get; } = new("--json") { Description = "One JSON object per file" };

        public Option<FileInfo?> Config { get; } = new("--config") { Description = "YAML configuration file" };

        public Argument<string[]> Files { get; } = new("WAV") { Arity = ArgumentArity.OneOrMore, Description = "WAV files, one utterance each" };

        public void AddTo(Command command)
        {
            command.Options.Add(Engine);
            command.Options.Add(Model);
            command.Options.Add(Intents);
            command.Options.Add(Devices);
            command.Options.Add(Json);
            command.Options.Add(Config);
            command.Arguments.Add(Files);
        }

        public Setup Build(ParseResult parse)
        {
            var configuration = AppConfiguration.Load(parse.GetValue(Config)?.FullName);
            try
            {
                var models = configuration.Get<ModelsOptions>();
                var whisper = configuration.Get<WhisperEngineOptions>();
                var engine = parse.GetValue(Engine) ?? configuration.Get<SpeechOptions>().Engine;
                if (parse.GetValue(Model) is { } model)
                {
                    if (engine is "pocketsphinx")
                    {
                        models.PocketsphinxModelDirectory = model;
                        if (!Directory.Exists(Path.Combine(model, "en-us")))
                        {
                            throw new InputException($"{model}: not a pocketsphinx model folder (it needs en-us/ with the acoustic model): the pocketsphinx engine cannot use this model");
                        }
                    }
                    else
                    {
                        whisper.Model = model;
                        engine = engine is "auto" ? "whisper" : engine;
                    }
                }

                var intents = IntentSet.Load(parse.GetValue(Intents)!);
                var registry = parse.GetValue(Devices) is { } devices ? DevicesFile.Load(devices.FullName) : DeviceRegistry.Empty;
                ISpeechEngine speech;
                try
                {
                    speech = SpeechEngines.Create(engine, models, configuration.Get<PocketsphinxEngineOptions>(), whisper, intents, registry);
                }
                catch (ArgumentException e)
                {
                    throw new InputException(e.Message);
                }

                return new Setup(configuration, speech, intents, registry);
            }
            catch
            {
                configuration.Dispose();
                throw;
            }
        }
    }

    private sealed record Setup(AppConfiguration Configuration, ISpeechEngine Engine, IntentSet Intents, DeviceRegistry Registry) : IDisposable
    {
        public void Dispose()
        {
            Engine.Dispose();
            Configuration.Dispose();
        }
    }
}
