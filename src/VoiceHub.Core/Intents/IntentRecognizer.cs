using System.Diagnostics;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Core.Intents;

/// <summary>A second opinion for sentences no template matches (the grammar-bounded language model).</summary>
public interface IIntentFallback
{
    Task<IntentCandidate?> RecognizeAsync(string text, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken);
}

/// <summary>
/// Text to command: the compiled sentence templates first (fast, exact), then the fuzzy stage
/// (the closest template sentence, built on first use), then the fallback (the language model)
/// only when neither answers, then target resolution, policy and the spoken response. One
/// instance per intents/devices configuration; a reload builds a new one.
/// </summary>
public sealed class IntentRecognizer(TemplateMatcher matcher, IntentResolver resolver, IIntentFallback? fallback = null, bool fuzzy = true, IntentRecognizer? sameIntentsAs = null)
{
    private readonly Lazy<FuzzyMatcher>? _fuzzy = !fuzzy ? null
        : sameIntentsAs?._fuzzy is { IsValueCreated: true } trained ? new(() => trained.Value.For(matcher))
        : new(() => new FuzzyMatcher(matcher));

    /// <summary>Longer input is not a spoken command (a pasted document, a runaway transcript).</summary>
    public const int MaxInputCharacters = 500;

    public TemplateMatcher Matcher => matcher;

    public static IntentRecognizer Create(IntentSet intents, DeviceRegistry registry, IReadOnlyList<ConfirmationRule>? confirmations = null, TimeProvider? clock = null, IIntentFallback? fallback = null, IEntityStates? states = null, bool fuzzy = true, IntentRecognizer? sameIntentsAs = null) =>
        new(new TemplateMatcher(intents, registry), new IntentResolver(registry, intents, confirmations ?? IntentResolver.DefaultConfirmations, clock ?? TimeProvider.System, states), fallback, fuzzy, sameIntentsAs);

    /// <summary>Builds the fuzzy stage now (a few hundred milliseconds), so the first sentence no template matches does not wait for it.</summary>
    public void Prepare() => _ = _fuzzy?.Value;

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

        return resolver.Resolve(text, Candidate(matches[0], "template"), context);
    }

    /// <summary>The fuzzy stage alone: the closest template sentence, when one is close enough.</summary>
    public IntentResult? RecognizeFuzzy(string text, IReadOnlyDictionary<string, string> context)
    {
        if (_fuzzy?.Value.Match(text, context) is not { } close)
        {
            return null;
        }

        return resolver.Resolve(text, Candidate(close.Match, "fuzzy"), context) with { Confidence = close.Confidence };
    }

    private static IntentCandidate Candidate(TemplateMatch match, string source) =>
        new(match.Data.Intent, match.Captures, match.Data.FixedSlots, source, match.Data.Response, match.Data.Metadata, match.Sentence);

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

        if ((RecognizeWithTemplates(text, context) ?? RecognizeFuzzy(text, context)) is { } result)
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
