using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Core.Intents.Slm;

/// <summary>
/// Picks the few entities an utterance is most likely about, so that the language model's prompt
/// and grammar stay small however many entities the home has: words shared with the entity's
/// name, aliases, area and domain, with sound-alike words counting too.
/// </summary>
public static class Shortlist
{
    private static readonly HashSet<string> s_stopWords = new(StringComparer.Ordinal)
    {
        "the", "a", "an", "my", "our", "in", "on", "of", "to", "and", "please", "is", "it", "set", "turn", "switch", "off", "up", "down", "all",
    };

    private static readonly Dictionary<string, string[]> s_domainWords = new(StringComparer.Ordinal)
    {
        ["light"] = ["light", "lights", "lamp", "lamps", "bright", "brighter", "dim", "dimmer", "darker", "color", "colour"],
        ["cover"] = ["blind", "blinds", "shade", "shades", "curtain", "curtains", "garage", "door", "open", "close", "shutter"],
        ["climate"] = ["temperature", "heat", "heating", "warm", "warmer", "cold", "colder", "cool", "thermostat", "degrees"],
        ["media_player"] = ["music", "song", "volume", "speaker", "play", "pause", "louder", "quieter", "tv"],
        ["fan"] = ["fan", "air", "breeze"],
        ["lock"] = ["lock", "unlock", "locked", "door"],
    };

    public static IReadOnlyList<Entity> Select(DeviceRegistry registry, string utterance, int count)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var words = TextNormalizer.Tokenize(utterance).Where(w => !s_stopWords.Contains(w)).ToList();
        var sounds = words.Select(w => PhraseIndex.SoundKey([w])).ToHashSet(StringComparer.Ordinal);
        var scored = new List<(double Score, Entity Entity)>();
        foreach (var entity in registry.Entities)
        {
            double score = 0;
            var nameWords = entity.Aliases.Prepend(entity.Name).SelectMany(TextNormalizer.Tokenize).Where(w => !s_stopWords.Contains(w)).ToHashSet(StringComparer.Ordinal);
            foreach (var w in nameWords)
            {
                if (words.Contains(w))
                {
                    score += 3;
                }
                else if (sounds.Contains(PhraseIndex.SoundKey([w])))
                {
                    score += 2;
                }
            }

            if (registry.AreaOf(entity) is { } area && TextNormalizer.Tokenize(area.Name).Any(words.Contains))
            {
                score += 1.5;
            }

            if (s_domainWords.TryGetValue(entity.Domain, out var domainWords) && domainWords.Any(words.Contains))
            {
                score += 1;
            }

            if (score > 0)
            {
                scored.Add((score, entity));
            }
        }

        return [.. scored.OrderByDescending(s => s.Score).ThenBy(s => s.Entity.Id, StringComparer.Ordinal).Take(count).Select(s => s.Entity)];
    }
}
