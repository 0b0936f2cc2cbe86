using VoiceHub.Core.Intents.Templates;
using VoiceHub.Core.Speech;

namespace VoiceHub.Core.Wake;

/// <summary>A wake phrase as every part of the wake stage writes it: lower-case words, no punctuation ("Hey, Kitchen!" is "hey kitchen").</summary>
public static class WakePhraseText
{
    public static string Normalize(string phrase) => string.Join(' ', TextNormalizer.Tokenize(phrase ?? string.Empty));
}

/// <summary>
/// Why a wake phrase may wake the hub by mistake: too few sounds (a short phrase hides inside
/// other words), or only everyday words that people say to each other anyway.
/// </summary>
public static class WakePhraseAdvice
{
    /// <summary>Phones below which a phrase is short ("alexa" has 6, "computer" 8).</summary>
    public const int MinimumPhones = 5;

    private static readonly HashSet<string> s_everyday = new(StringComparer.Ordinal)
    {
        "a", "the", "hey", "hi", "hello", "ok", "okay", "yes", "no", "yeah", "stop", "go", "on", "off", "please", "thanks", "thank",
        "you", "what", "now", "time", "light", "lights", "music", "play", "come", "here", "look", "listen", "wait", "right", "so", "well",
    };

    /// <param name="pronounce">A word's phones (the dictionary's or espeak-ng's), null when unknown.</param>
    public static IEnumerable<string> Warnings(string phrase, Func<string, string?> pronounce)
    {
        ArgumentNullException.ThrowIfNull(pronounce);
        var words = TextNormalizer.Tokenize(phrase).ToList();
        if (words.Count == 0)
        {
            yield break;
        }

        var pronunciations = words.Select(pronounce).ToList();
        var phones = pronunciations.Sum(p => (p ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        // A word nothing can spell (espeak-ng missing) says nothing about the phrase's length.
        if (pronunciations.All(p => p is { Length: > 0 }) && phones < MinimumPhones)
        {
            yield return $"wake phrase \"{string.Join(' ', words)}\" is short ({phones} sounds): short phrases are heard inside other words; a phrase of three syllables or more wakes less often by mistake";
        }

        if (words.All(s_everyday.Contains))
        {
            yield return $"wake phrase \"{string.Join(' ', words)}\" is made of everyday words people say to each other: expect it to wake on conversation";
        }
    }

    /// <summary>The same with espeak-ng's pronunciations (for a phrase the spotter's dictionary has not seen).</summary>
    public static IEnumerable<string> Warnings(string phrase) => Warnings(phrase, EspeakPronouncer.Pronounce);
}
