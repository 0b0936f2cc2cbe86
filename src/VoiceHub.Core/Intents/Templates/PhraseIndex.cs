using VoiceHub.Core.Devices;


namespace VoiceHub.Core.Intents.Templates;

/// <summary>What a list slot matched: the output value and, for device names, the entities it may mean.</summary>
public sealed record ListMatch(
    object Out,
    string Spoken,
    IReadOnlyDictionary<string, string> Context,
    IReadOnlyList<Entity> Entities,
    Area? Area = null,
    Floor? Floor = null,
    int FuzzyEdits = 0,
    IReadOnlyList<ListMatch>? CloseAlternatives = null);

/// <summary>
/// The phrases of one list (values, or device names and aliases, or area and floor names), indexed
/// by first word for exact matching, and by letters for fuzzy matching of speech-to-text slips
/// ("kitchen lite", "bed room lamp"). A fuzzy match is taken only when one phrase is clearly the
/// closest; two phrases about as close are reported together so the caller can ask which.
/// </summary>
public sealed class PhraseIndex
{
    private const int MinimumFuzzyLength = 4;
    private readonly Dictionary<string, List<(string[] Words, ListMatch Value)>> _byFirstWord = new(StringComparer.Ordinal);
    private readonly List<(string Letters, string Sound, ListMatch Value)> _letters = [];

    public int MaxWords { get; private set; }

    public int Count => _letters.Count;

    public void Add(string[] words, ListMatch value)
    {
        if (words.Length == 0)
        {
            return;
        }

        if (!_byFirstWord.TryGetValue(words[0], out var list))
        {
            _byFirstWord[words[0]] = list = [];
        }

        list.Add((words, value));
        _letters.Add((string.Concat(words), SoundKey(words), value));
        MaxWords = Math.Max(MaxWords, words.Length);
    }

    /// <summary>Whether some phrase starts with this word.</summary>
    public bool HasFirstWord(string word) => _byFirstWord.ContainsKey(word);

    /// <summary>Exact matches starting at <paramref name="start"/>: the value and the position after it.</summary>
    public IEnumerable<(int End, ListMatch Value)> MatchExact(IReadOnlyList<string> tokens, int start)
    {
        if (start >= tokens.Count || !_byFirstWord.TryGetValue(tokens[start], out var candidates))
        {
            yield break;
        }

        foreach (var (words, value) in candidates)
        {
            if (start + words.Length > tokens.Count)
            {
                continue;
            }

            var equal = true;
            for (var i = 1; i < words.Length; i++)
            {
                if (tokens[start + i] != words[i])
                {
                    equal = false;
                    break;
                }
            }

            if (equal)
            {
                yield return (start + words.Length, value);
            }
        }
    }

    /// <summary>
    /// Fuzzy matches starting at <paramref name="start"/>: spans of up to one word more than the
    /// longest phrase, compared letter by letter (so word splits do not matter) within about one
    /// edit per five letters.
    /// </summary>
    public List<(int End, ListMatch Value)> MatchFuzzy(IReadOnlyList<string> tokens, int start)
    {
        var results = new List<(int End, ListMatch Value)>();
        for (var end = start + 1; end <= Math.Min(tokens.Count, start + MaxWords + 1); end++)
        {
            var spanWords = tokens.Skip(start).Take(end - start).ToArray();
            var span = string.Concat(spanWords);
            if (span.Length < MinimumFuzzyLength)
            {
                continue;
            }

            var spanSound = SoundKey(spanWords);
            var budget = Math.Max(1, span.Length / 5);
            var scored = new List<(int Distance, ListMatch Value)>();
            foreach (var (letters, sound, value) in _letters)
            {
                if (Math.Abs(letters.Length - span.Length) > budget + 2)
                {
                    continue;
                }

                // Spelling or sound, whichever is closer: "lite" sounds like "light", "bed room" spells "bedroom".
                var distance = Math.Min(Levenshtein(span, letters, budget), Levenshtein(spanSound, sound, budget));
                if (distance <= budget)
                {
                    scored.Add((distance, value));
                }
            }

            if (scored.Count == 0)
            {
                continue;
            }

            scored.Sort((a, b) => a.Distance.CompareTo(b.Distance));
            var best = scored[0];
            // Never a silent wrong match: anything within one edit of the best is a rival.
            var rivals = scored.Where(s => s.Distance <= best.Distance + 1 && !ReferenceEquals(s.Value, best.Value) && !SameTarget(s.Value, best.Value)).Select(s => s.Value).ToList();
            results.Add((end, best.Value with { FuzzyEdits = best.Distance, CloseAlternatives = rivals.Count > 0 ? rivals : null }));
        }

        return results;
    }

    private static bool SameTarget(ListMatch a, ListMatch b) =>
        Equals(a.Out, b.Out) && a.Entities.Select(e => e.Id).SequenceEqual(b.Entities.Select(e => e.Id)) && a.Area == b.Area && a.Floor == b.Floor;

    /// <summary>
    /// A rough English sound key: spellings that sound alike come out alike ("light"/"lite",
    /// "reading"/"reeding", "lamb"/"lamp" one apart), so speech-to-text homophones are forgiven.
    /// </summary>
    public static string SoundKey(IEnumerable<string> words)
    {
        var builder = new System.Text.StringBuilder();
        foreach (var word in words)
        {
            var w = word;
            foreach (var (from, to) in s_soundRules)
            {
                w = w.Replace(from, to, StringComparison.Ordinal);
            }

            if (w.Length > 2 && w[^1] == 'e')
            {
                w = w[..^1]; // silent final e
            }

            for (var i = 0; i < w.Length; i++)
            {
                if (i == 0 || w[i] != w[i - 1])
                {
                    builder.Append(w[i]);
                }
            }
        }

        return builder.ToString();
    }

    private static readonly (string From, string To)[] s_soundRules =
    [
        ("tch", "ch"), ("igh", "i"), ("ght", "t"), ("ph", "f"), ("ck", "k"), ("qu", "kw"), ("wh", "w"), ("kn", "n"), ("wr", "r"),
        ("mb", "m"), ("ce", "se"), ("ci", "si"), ("cy", "si"), ("c", "k"), ("x", "ks"), ("z", "s"), ("ee", "i"), ("ea", "i"),
        ("ie", "i"), ("y", "i"), ("oo", "u"), ("ou", "u"), ("ai", "e"), ("ay", "e"), ("dd", "d"),
    ];

    /// <summary>Edit distance, giving up (returning limit + 1) once it cannot be within <paramref name="limit"/>.</summary>
    public static int Levenshtein(string a, string b, int limit)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var rowMinimum = current[0];
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                rowMinimum = Math.Min(rowMinimum, current[j]);
            }

            if (rowMinimum > limit)
            {
                return limit + 1;
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
