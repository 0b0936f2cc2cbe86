using System.CommandLine;
using System.Text.Json;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Language;
using VoiceHub.Core.Models;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub parse</c>: text to intent, one result per input, in input order.</summary>
public static class ParseCommand
{
    public static Command Create(CliIo io)
    {
        var intents = new Option<string>("--intents") { Description = "Intents file or folder (default: the shipped English intents)", DefaultValueFactory = _ => Inputs.DefaultIntents() };
        var devices = new Option<FileInfo?>("--devices") { Description = "Devices file (floors, areas, entities)" };
        var context = new Option<string[]>("--context") { Description = "Speaker context, e.g. area=Kitchen", AllowMultipleArgumentsPerToken = false };
        var json = new Option<bool>("--json") { Description = "One JSON object per input line" };
        var slm = new Option<string?>("--slm") { Description = "GGUF language model for sentences no template matches (a file, or a name in the models directory)" };
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file" };
        var text = new Argument<string[]>("TEXT") { Description = "Utterances; none reads one per line from stdin", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("parse", "Text to intent") { intents, devices, context, json, slm, config, text };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "parse", async () =>
        {
            using var configuration = AppConfiguration.Load(parse.GetValue(config)?.FullName);
            var intentSet = IntentSet.Load(parse.GetValue(intents)!);
            var registry = parse.GetValue(devices) is { } file ? DevicesFile.Load(file.FullName) : DeviceRegistry.Empty;
            var slmOptions = configuration.Get<SlmOptions>();
            var modelPath = parse.GetValue(slm) ?? (slmOptions.Model.Length > 0 ? slmOptions.Model : null);
            using var model = modelPath is null ? null : LanguageModel.Load(ModelPaths.Resolve(modelPath, configuration.Get<ModelsOptions>()));
            using var fallback = model is null ? null : new SlmIntentFallback(model, registry, intentSet, slmOptions);
            var recognizer = IntentRecognizer.Create(intentSet, registry, fallback: fallback);
            var speaker = Inputs.Context(parse.GetValue(context));
            var utterances = parse.GetValue(text) is { Length: > 0 } given
                ? given.Select((t, i) => (Line: i + 1, Text: (string?)t, Error: (string?)null))
                : Inputs.ReadLines(io.Input);
            var bad = 0;
            foreach (var (line, utterance, decodeError) in utterances)
            {
                var problem = decodeError ?? IntentRecognizer.Problem(utterance!);
                if (problem is not null)
                {
                    bad++;
                    await io.Error.WriteLineAsync($"voicehub parse: input {line}: {problem}").ConfigureAwait(false);
                    await Write(io, parse.GetValue(json), new Output(utterance is null || utterance.Length > 200 ? string.Empty : utterance, null, new Dictionary<string, object>(), [], null, 0, "no_match", string.Empty, problem)).ConfigureAwait(false);
                    continue;
                }

                var (result, ms) = await recognizer.TimedAsync(utterance!, speaker, cancellationToken).ConfigureAwait(false);
                await Write(io, parse.GetValue(json), Output.From(result, ms)).ConfigureAwait(false);
            }

            return bad > 0 ? CliApplication.BadInput : CliApplication.Success;
        }));
        return command;
    }

    private static async Task Write(CliIo io, bool json, Output output)
    {
        if (json)
        {
            await io.Output.WriteLineAsync(JsonSerializer.Serialize(output, CliJson.Options)).ConfigureAwait(false);
            return;
        }

        var slots = string.Join(", ", output.Slots.Select(kv => $"{kv.Key}={kv.Value}"));
        // The text is the user's: escape control characters so it cannot move the cursor or recolour a terminal.
        await io.Output.WriteLineAsync(VoiceHub.Native.PrintableText.Escape(output.Intent is null
            ? $"{output.Text} -> (no intent) {output.Response}{(output.Error is null ? string.Empty : " " + output.Error)}"
            : $"{output.Text} -> {output.Intent} [{slots}] targets [{string.Join(", ", output.Targets)}] ({output.Source}, {output.Status}) \"{output.Response}\"")).ConfigureAwait(false);
    }

    /// <summary>The contract's parse object (text, intent, slots, targets, source, ms) and extensions.</summary>
    internal sealed record Output(
        string Text,
        string? Intent,
        IReadOnlyDictionary<string, object> Slots,
        IReadOnlyList<string> Targets,
        string? Source,
        double Ms,
        string Status,
        string Response,
        string? Error = null,
        IReadOnlyList<string>? PendingTargets = null,
        double? Confidence = null,
        string? Sentence = null)
    {
        public static Output From(IntentResult result, double ms) => new(
            result.Text,
            result.Intent,
            result.Slots,
            result.Targets,
            result.Source,
            Math.Round(ms, 3),
            JsonSerializer.Serialize(result.Status, CliJson.Options).Trim('"'),
            result.Response,
            PendingTargets: result.PendingTargets,
            Confidence: result.Confidence,
            Sentence: result.Sentence);
    }
}
