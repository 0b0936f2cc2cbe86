using System.CommandLine;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub eval</c>: accuracy on test sets (intents; speech and wake word join later).</summary>
public static class EvalCommand
{
    public static Command Create(CliIo io)
    {
        var command = new Command("eval", "Measure accuracy on test sets");
        command.Subcommands.Add(Intents(io));
        command.Subcommands.Add(EvalSpeechCommand.Create(io));
        command.Subcommands.Add(WakeCommands.Evaluate(io));
        command.Subcommands.Add(EvalEchoCommand.Create(io));
        return command;
    }

    private static Command Intents(CliIo io)
    {
        var intents = new Option<string>("--intents") { Description = "Intents file or folder", DefaultValueFactory = _ => Inputs.DefaultIntents() };
        var devices = new Option<FileInfo?>("--devices") { Description = "Devices file (default: _fixtures.yaml beside the tests)" };
        var files = new Argument<string[]>("FILE") { Description = "Test files or folders in Home Assistant's intent-test layout", Arity = ArgumentArity.ZeroOrMore };
        var tests = new Option<string[]>("--tests") { Description = "Test files or folders (as FILE), e.g. a checkout's tests/en", AllowMultipleArgumentsPerToken = true };
        var templatesOnly = new Option<bool>("--templates-only") { Description = "Judge the template match alone (intent and slots), as Home Assistant's tests judge hassil: no device resolution, status or response" };
        var noFuzzy = new Option<bool>("--no-fuzzy") { Description = "Leave out the fuzzy stage (the closest template sentence) after the templates" };
        var command = new Command("intents", "Accuracy per intent on test sentences") { intents, devices, files, tests, templatesOnly, noFuzzy };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "eval intents", async () =>
        {
            var set = IntentSet.Load(parse.GetValue(intents)!);
            var outcomes = new List<(IntentTestCase Test, string? Failure)>();
            var stages = new List<(string Stage, bool Passed)>();
            var paths = (parse.GetValue(files) ?? []).Concat(parse.GetValue(tests) ?? []).ToList();
            if (paths.Count == 0)
            {
                throw new InputException("no tests given: name test files or folders (FILE or --tests DIR)");
            }

            foreach (var path in paths)
            {
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    throw new InputException($"{path}: no such test file or folder");
                }

                var registry = DevicesFile.Load(parse.GetValue(devices)?.FullName ?? IntentTests.FixturesFor(path));
                var recognizer = IntentRecognizer.Create(set, registry, fuzzy: !parse.GetValue(noFuzzy));
                foreach (var test in IntentTests.Load(path))
                {
                    if (parse.GetValue(templatesOnly))
                    {
                        var matches = recognizer.Matcher.Match(test.Sentence, test.Context);
                        outcomes.Add((test, IntentTests.CheckMatch(test, matches.Count > 0 ? matches[0] : null)));
                        continue;
                    }

                    var result = await recognizer.RecognizeAsync(test.Sentence, test.Context, cancellationToken).ConfigureAwait(false);
                    outcomes.Add((test, IntentTests.Check(test, result)));
                    stages.Add((result.Source ?? "none", outcomes[^1].Failure is null));
                }
            }

            await io.Output.WriteLineAsync($"{"intent",-28} {"passed",7} {"total",6} {"accuracy",9}").ConfigureAwait(false);
            foreach (var (intent, passed, total) in IntentTests.ByIntent(outcomes))
            {
                await io.Output.WriteLineAsync($"{intent,-28} {passed,7} {total,6} {IntentTests.Percent(passed, total),9}").ConfigureAwait(false);
            }

            var allPassed = outcomes.Count(o => o.Failure is null);
            await io.Output.WriteLineAsync($"{"all",-28} {allPassed,7} {outcomes.Count,6} {IntentTests.Percent(allPassed, outcomes.Count),9}").ConfigureAwait(false);
            foreach (var stage in stages.GroupBy(s => s.Stage).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                await io.Output.WriteLineAsync($"answered by {stage.Key}: {stage.Count()} ({stage.Count(s => s.Passed)} right)").ConfigureAwait(false);
            }

            foreach (var (test, failure) in outcomes.Where(o => o.Failure is not null))
            {
                await io.Output.WriteLineAsync($"FAIL {test}: {failure}").ConfigureAwait(false);
            }

            return CliApplication.Success;
        }));
        return command;
    }
}
