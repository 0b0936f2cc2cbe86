using System.Diagnostics;
using VoiceHub.Core.Intents.Registry;
using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Core.Intents;

/// <summary>A second opinion for sentences no template matches (the grammar-bounded language model).</summary>
public interface IIntentFallback
{
    Task<IntentCandidate?> RecognizeAsync(string text, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken);
}

/// <summary>
/// Text to command: the compiled sentence templates first (fast, exact), the fallback only when
/// none matches, then target resolution, policy and the spoken response. One instance per
/// intents/devices configuration; a reload builds a new one.
/// </summary>
public sealed class IntentRecognizer(TemplateMatcher matcher, IntentResolver resolver, IIntentFallback? fallback = null)
{
    /// <summary>Longer input is not a spoken command (a pasted document, a runaway transcript).</summary>
    public const int MaxInputCharacters = 500;

    public TemplateMatcher Matcher => matcher;

    public static IntentRecognizer Create(IntentSet intents, DeviceRegistry registry, IReadOnlyList<ConfirmationRule>? confirmations = null, TimeProvider? clock = null, IIntentFallback? fallback = null, IEntityStates? states = null) =>
        new(new TemplateMatcher(intents, registry), new IntentResolver(registry, intents, confirmations ?? IntentResolver.DefaultConfirmations, clock ?? TimeProvider.System, states), fallback);

    /// <summary>Why a text cannot be a command, or null when it can be tried.</summary>
    public static string? Problem(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxInputCharacters)
        {
            return $"input of {text.Length} characters is longer than a spoken command ({MaxInputCharacters} at most)";
        }

        return text.Contains('\uFFFD', StringComparison.Ordinal) ? "input is not valid UTF-8" : null;
    }

    /// <summary>Templates only: synchronous and allocation-light, for the fast path and benchmarks.</summary>
    public IntentResult? RecognizeWithTemplates(string text, IReadOnlyDictionary<string, string> context)
    {
        var matches = matcher.Match(text, context);
        if (matches.Count == 0)
        {
            return null;
        }

        var best = matches[0];
        var candidate = new IntentCandidate(best.Data.Intent, best.Captures, best.Data.FixedSlots, "template", best.Data.Response, best.Data.Metadata, best.Sentence);
        return resolver.Resolve(text, candidate, context);
    }

    public async Task<IntentResult> RecognizeAsync(string text, IReadOnlyDictionary<string, string>? context = null, CancellationToken cancellationToken = default)
    {
        context ??= new Dictionary<string, string>();
        if (Problem(text) is { } problem)
        {
            return IntentResult.NoMatch(text, "Sorry, that was not something I can do.") with { Response = $"Sorry, I can't use that: {problem}." };
        }

        if (TextNormalizer.Tokenize(text).Length == 0)
        {
            return IntentResult.NoMatch(text, "Sorry, I didn't hear anything.");
        }

        if (RecognizeWithTemplates(text, context) is { } result)
        {
            return result;
        }

        if (fallback is not null && await fallback.RecognizeAsync(text, context, cancellationToken).ConfigureAwait(false) is { } candidate)
        {
            return resolver.Resolve(text, candidate, context);
        }

        return IntentResult.NoMatch(text);
    }

    /// <summary>Runs <see cref="RecognizeAsync"/> and reports the wall time it took.</summary>
    public async Task<(IntentResult Result, double Milliseconds)> TimedAsync(string text, IReadOnlyDictionary<string, string>? context, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = await RecognizeAsync(text, context, cancellationToken).ConfigureAwait(false);
        return (result, clock.Elapsed.TotalMilliseconds);
    }
}
