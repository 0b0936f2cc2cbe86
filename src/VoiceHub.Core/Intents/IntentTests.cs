using System.Globalization;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents.Templates;
using YamlDotNet.RepresentationModel;

namespace VoiceHub.Core.Intents;

/// <summary>One test sentence and what it must become.</summary>
public sealed record IntentTestCase(
    SourceLocation Where,
    string Sentence,
    string? Intent,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Slots,
    IReadOnlyDictionary<string, string> Context,
    IReadOnlyList<string>? Targets,
    IReadOnlyList<string>? TargetsAny,
    IReadOnlyList<string>? PendingTargets,
    IntentStatus Status,
    string? Response)
{
    public override string ToString() => $"{Path.GetFileName(Where.File)}:{Where.Line} \"{Sentence}\"";
}

/// <summary>
/// Test sentences in Home Assistant's intent-test layout (<c>tests: - sentences: [...] intent:
/// {name, slots}</c>), extended with <c>context</c>, <c>targets</c>, <c>status</c> and
/// <c>response</c>. The devices they run against are <c>_fixtures.yaml</c> beside them.
/// </summary>
public static class IntentTests
{
    public const string FixturesFile = "_fixtures.yaml";

    /// <summary>All cases of a file, or of every *.yaml but the fixtures in a folder.</summary>
    public static IReadOnlyList<IntentTestCase> Load(string path)
    {
        var files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*.yaml").Where(f => Path.GetFileName(f) != FixturesFile).Order(StringComparer.Ordinal).ToArray()
            : [path];
        return [.. files.SelectMany(f => Parse(YamlFile.Load(f)))];
    }

    /// <summary>The fixtures file that goes with a test file or folder.</summary>
    public static string FixturesFor(string path) =>
        Path.Combine(Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!, FixturesFile);

    private static IEnumerable<IntentTestCase> Parse(YamlFile document)
    {
        var root = document.Mapping(document.Root, "a test file");
        var tests = YamlFile.Child(root, "tests") ?? throw document.Error(root, "no 'tests' list");
        foreach (var node in document.Sequence(tests, "tests").Children)
        {
            var test = document.Mapping(node, "a test");
            string? intent = null;
            var slots = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            if (YamlFile.Child(test, "intent") is YamlMappingNode intentNode)
            {
                intent = document.RequiredString(intentNode, "name", "a test intent");
                if (YamlFile.Child(intentNode, "slots") is { } slotsNode)
                {
                    foreach (var (k, v) in document.Mapping(slotsNode, "slots").Children)
                    {
                        // A list of values: any of them is right (as Home Assistant's tests allow).
                        slots[document.Scalar(k, "a slot")] = v is YamlSequenceNode values ? [.. values.Children.Select(c => document.Scalar(c, "a slot value"))] : [document.Scalar(v, "a slot value")];
                    }
                }
            }

            // Home Assistant's tests put the context under intent:, ours beside it.
            var context = (YamlFile.Child(test, "context") ?? (YamlFile.Child(test, "intent") is YamlMappingNode withContext ? YamlFile.Child(withContext, "context") : null)) is { } contextNode
                ? document.Mapping(contextNode, "context").Children.ToDictionary(kv => document.Scalar(kv.Key, "a key"), kv => document.Scalar(kv.Value, "a value"), StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal);
            var statusText = document.OptionalString(test, "status");
            var status = statusText switch
            {
                null => intent is null ? IntentStatus.NoMatch : IntentStatus.Ok,
                "ok" => IntentStatus.Ok,
                "no_match" => IntentStatus.NoMatch,
                "clarify" => IntentStatus.Clarify,
                "confirm" => IntentStatus.Confirm,
                "error" => IntentStatus.Error,
                _ => throw document.Error(test, $"unknown status '{statusText}' (ok, no_match, clarify, confirm, error)"),
            };
            IReadOnlyList<string>? Optional(string key) => YamlFile.Child(test, key) is null ? null : document.Strings(test, key);
            foreach (var sentence in document.Sequence(YamlFile.Child(test, "sentences") ?? throw document.Error(test, "a test has no sentences"), "sentences").Children)
            {
                yield return new IntentTestCase(
                    new SourceLocation(document.Path, sentence.Start.Line),
                    document.Scalar(sentence, "a sentence"),
                    status == IntentStatus.NoMatch ? null : intent,
                    slots,
                    context,
                    Optional("targets"),
                    Optional("targets_any"),
                    Optional("pending_targets"),
                    status,
                    document.OptionalString(test, "response"));
            }
        }
    }

    /// <summary>What is wrong with a result for a case, or null when it is right.</summary>
    public static string? Check(IntentTestCase test, IntentResult result)
    {
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(result);
        var problems = new List<string>();
        if (result.Intent != test.Intent && test.Status != IntentStatus.NoMatch)
        {
            problems.Add($"intent {result.Intent ?? "null"}, expected {test.Intent}");
        }

        if (result.Status != test.Status)
        {
            problems.Add($"status {result.Status}, expected {test.Status} ({result.Response})");
        }

        foreach (var (slot, expected) in test.Slots)
        {
            var actual = result.Slots.TryGetValue(slot, out var value) ? NumberFormatting.Format(value) : null;
            if (actual is null || !expected.Contains(actual, StringComparer.Ordinal))
            {
                problems.Add($"slot {slot} = {actual ?? "(missing)"}, expected {string.Join(" or ", expected)}");
            }
        }

        if (test.Targets is { } targets && !targets.Order(StringComparer.Ordinal).SequenceEqual(result.Targets.Order(StringComparer.Ordinal)))
        {
            problems.Add($"targets [{string.Join(", ", result.Targets)}], expected [{string.Join(", ", targets)}]");
        }

        if (test.TargetsAny is { } any && (result.Targets.Count != 1 || !any.Contains(result.Targets[0])))
        {
            problems.Add($"targets [{string.Join(", ", result.Targets)}], expected one of [{string.Join(", ", any)}]");
        }

        if (test.PendingTargets is { } pending && !pending.Order(StringComparer.Ordinal).SequenceEqual((result.PendingTargets ?? []).Order(StringComparer.Ordinal)))
        {
            problems.Add($"pending targets [{string.Join(", ", result.PendingTargets ?? [])}], expected [{string.Join(", ", pending)}]");
        }

        if (test.Response is { } response && !string.Equals(response, result.Response, StringComparison.Ordinal))
        {
            problems.Add($"response \"{result.Response}\", expected \"{response}\"");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>
    /// What is wrong with the best template match for a case (intent and slots, as Home Assistant's
    /// own tests judge hassil), or null when it is right.
    /// </summary>
    public static string? CheckMatch(IntentTestCase test, TemplateMatch? match)
    {
        ArgumentNullException.ThrowIfNull(test);
        if (test.Status == IntentStatus.NoMatch || test.Intent is null)
        {
            return match is null ? null : $"matched {match.Data.Intent} (\"{match.Sentence}\"), expected no match";
        }

        if (match is null)
        {
            return $"no template matched, expected {test.Intent}";
        }

        var problems = new List<string>();
        if (match.Data.Intent != test.Intent)
        {
            problems.Add($"intent {match.Data.Intent} (\"{match.Sentence}\"), expected {test.Intent}");
        }

        var slots = new Dictionary<string, object>(match.Data.FixedSlots, StringComparer.Ordinal);
        foreach (var capture in match.Captures)
        {
            slots[capture.Slot] = capture.Value;
        }

        foreach (var (slot, expected) in test.Slots)
        {
            var actual = slots.TryGetValue(slot, out var value) ? NumberFormatting.Format(value) : null;
            if (actual is null || !expected.Contains(actual, StringComparer.Ordinal))
            {
                problems.Add($"slot {slot} = {actual ?? "(missing)"}, expected {string.Join(" or ", expected)}");
            }
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Accuracy per intent (the expected one; "(none)" for sentences that must not match).</summary>
    public static IReadOnlyList<(string Intent, int Passed, int Total)> ByIntent(IEnumerable<(IntentTestCase Test, string? Failure)> outcomes) =>
        [.. outcomes.GroupBy(o => o.Test.Intent ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(o => o.Failure is null), g.Count()))];

    public static string Percent(int passed, int total) =>
        total == 0 ? "-" : (100.0 * passed / total).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
