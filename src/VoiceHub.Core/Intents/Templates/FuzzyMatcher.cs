
namespace VoiceHub.Core.Intents.Templates;

/// <summary>What the fuzzy stage made of a sentence no template matched: the template match of its closest sentence.</summary>
public sealed record FuzzyMatch(TemplateMatch Match, string Closest, double Confidence);

/// <summary>
/// The stage after the templates, for sentences no template says ("I'd like the kitchen light
/// on"). Trained from the templates themselves: every sentence is expanded (sampled when it has
/// too many expansions) with its slots left as placeholders, so one model serves any registry. An
/// utterance has its names, areas, list values and numbers found and replaced the same way, in
/// every way they can be read; it is then compared with the expansions that have the same slots,
/// as a bag of words weighted by how much each word tells the intents apart. The closest
/// expansion, with the utterance's own slot words put in, goes through the template matcher, so a
/// fuzzy answer is always one the templates could give (context, device classes and ranges are
/// checked as usual). Sentences with wildcard slots take no part: a wildcard fits anything.
/// </summary>
public sealed class FuzzyMatcher
{
    /// <summary>
    /// Below this similarity (0–1) the stage says nothing. Set on our paraphrase and not-a-command
    /// sets (intents/eval/en) and 600 generated coffee orders: none of the speech that is no command
    /// scored above 0.64.
    /// </summary>
    public const double DefaultThreshold = 0.68;

    private const int ExpansionsPerSentence = 200;
    private const int MaxReadings = 256;
    private const int CandidatesChecked = 4;
    private const double SlotWeight = 2.0;
    private const double FillerWeight = 0.25;

    /// <summary>
    /// Per language: words that turn a command into something else ("don't", "why"), words that
    /// start a question, and filler that says little.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, (string[] Refusals, string[] QuestionStarts, string[] Fillers)> s_languages = new Dictionary<string, (string[], string[], string[])>(StringComparer.Ordinal)
    {
        ["en"] = (
            ["don't", "dont", "not", "never", "didn't", "doesn't", "won't", "shouldn't", "mustn't", "nobody", "why"],
            ["is", "are", "was", "were", "did", "does", "has", "have", "what", "what's", "whats", "which", "how", "how's", "who", "who's", "where", "where's", "when"],
            ["i", "i'd", "i'm", "id", "want", "need", "like", "would", "could", "can", "you", "me", "my", "just", "now", "so", "it", "be", "to", "a", "an", "the", "ok", "okay", "um", "uh", "oh", "well", "then", "also", "go", "let's", "lets", "do", "thanks", "please"]),
    };

    private readonly TemplateMatcher _matcher;
    private readonly double _threshold;
    private readonly Model _model;

    public FuzzyMatcher(TemplateMatcher matcher, double threshold = DefaultThreshold)
        : this(matcher, threshold, Train(matcher?.Intents ?? throw new ArgumentNullException(nameof(matcher))))
    {
    }

    private FuzzyMatcher(TemplateMatcher matcher, double threshold, Model model)
    {
        _matcher = matcher;
        _threshold = threshold;
        _model = model;
    }

    public int ExpansionCount => _model.BySlots.Values.Sum(l => l.Count);

    /// <summary>
    /// The same stage over another registry: what was learnt from the templates does not depend on
    /// the devices, so it is shared when the intents are the same (a device reload trains nothing).
    /// </summary>
    public FuzzyMatcher For(TemplateMatcher matcher)
    {
        ArgumentNullException.ThrowIfNull(matcher);
        return ReferenceEquals(matcher.Intents, _matcher.Intents) ? new FuzzyMatcher(matcher, _threshold, _model) : new FuzzyMatcher(matcher, _threshold);
    }

    /// <summary>The closest template sentence's match when it is close enough, else null.</summary>
    public FuzzyMatch? Match(string text, IReadOnlyDictionary<string, string>? context = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = _matcher.WithoutSkipWords(TextNormalizer.Tokenize(text));
        if (tokens.Count == 0 || tokens.Any(_model.Refusals.Contains))
        {
            return null; // "don't open the garage door" is close to a command and means the opposite
        }

        // A question is answered by a question's template, a command by a command's: "did I lock
        // the front door" must not lock it.
        var question = _model.QuestionStarts.Contains(tokens[0]);

        var spans = _matcher.FindListSpans(tokens);
        var best = new List<(double Score, Expansion Expansion, Reading Reading)>(CandidatesChecked + 1);
        foreach (var reading in Readings(tokens, spans))
        {
            if (!_model.BySlots.TryGetValue((reading.Slots, question), out var expansions))
            {
                continue;
            }

            var (bag, weight) = _model.Bag(reading.Words);
            var floor = Math.Max(_threshold, best.Count == CandidatesChecked ? best[^1].Score : 0);

            // Dice cannot reach the floor unless the two weights are within a factor of each other:
            // look only at expansions in that band (the list is sorted by weight).
            var lowest = weight * floor / (2 - floor);
            var highest = weight * (2 - floor) / floor;
            for (var i = FirstAtLeast(expansions, lowest); i < expansions.Count && expansions[i].Weight <= highest; i++)
            {
                var expansion = expansions[i];
                var score = 2 * _model.Overlap(bag, expansion.Bag) / (weight + expansion.Weight);
                if (score < floor)
                {
                    continue;
                }

                best.Add((score, expansion, reading));
                best.Sort((a, b) => b.Score.CompareTo(a.Score));
                if (best.Count > CandidatesChecked)
                {
                    best.RemoveAt(CandidatesChecked);
                }

                floor = Math.Max(_threshold, best.Count == CandidatesChecked ? best[^1].Score : 0);
            }
        }

        foreach (var (score, expansion, reading) in best)
        {
            var closest = Fill(expansion, reading, tokens);
            var matches = _matcher.Match(closest, context);
            if (matches.Count > 0)
            {
                return new FuzzyMatch(matches[0], string.Join(' ', closest), Math.Round(score, 3));
            }
        }

        return null;
    }

    private static int FirstAtLeast(List<Expansion> expansions, double weight)
    {
        int low = 0, high = expansions.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (expansions[middle].Weight < weight)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    // ----- training -----

    private sealed record Expansion(string[] Words, (int Id, int Count)[] Bag, double Weight);

    private static Model Train(IntentSet intents)
    {
        var language = s_languages.GetValueOrDefault(intents.Language);
        var model = new Model(
            new HashSet<string>(language.Refusals ?? [], StringComparer.Ordinal),
            new HashSet<string>(language.QuestionStarts ?? [], StringComparer.Ordinal),
            new HashSet<string>(language.Fillers ?? [], StringComparer.Ordinal));
        var random = new Random(20261129); // fixed: the same templates always give the same model
        var raw = new List<(string Intent, List<string> Words)>();
        foreach (var data in intents.Data)
        {
            foreach (var (template, _, _) in data.Sentences)
            {
                if (HasWildcard(template, intents))
                {
                    continue;
                }

                var expansions = Count(template, intents) <= ExpansionsPerSentence
                    ? Enumerate(template, intents)
                    : Enumerable.Range(0, ExpansionsPerSentence).Select(_ => Sample(template, intents, random));
                foreach (var words in expansions.DistinctBy(w => string.Join(' ', w)))
                {
                    raw.Add((data.Intent, words));
                }
            }
        }

        // A word's weight is how few intents use it: "off" tells more than "the".
        var intentsUsing = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (intent, words) in raw)
        {
            foreach (var word in words)
            {
                (intentsUsing.TryGetValue(word, out var set) ? set : intentsUsing[word] = new HashSet<string>(StringComparer.Ordinal)).Add(intent);
            }
        }

        var intentCount = Math.Max(1, raw.Select(r => r.Intent).Distinct(StringComparer.Ordinal).Count());
        foreach (var (word, users) in intentsUsing)
        {
            model.WordIds[word] = model.Weights.Count;
            model.Weights.Add(IsSlot(word) ? SlotWeight : model.Fillers.Contains(word) ? FillerWeight : Math.Log(1.0 + ((double)intentCount / users.Count)));
        }

        model.UnknownWeight = Math.Log(1.0 + intentCount);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (intent, words) in raw)
        {
            var slots = string.Join(',', words.Where(IsSlot).Order(StringComparer.Ordinal));
            var (bag, weight) = model.Bag(words);
            if (!seen.Add($"{intent}|{string.Join(',', bag.Select(b => (b.Id * 8) + b.Count))}"))
            {
                continue; // the same words in another order: one is enough to compare with
            }

            var key = (slots, words.Count > 0 && model.QuestionStarts.Contains(words[0]));
            (model.BySlots.TryGetValue(key, out var list) ? list : model.BySlots[key] = []).Add(new Expansion([.. words], bag, weight));
        }

        foreach (var list in model.BySlots.Values)
        {
            list.Sort((a, b) => a.Weight.CompareTo(b.Weight));
        }

        return model;
    }

    private static bool IsSlot(string word) => word.StartsWith('{');

    private static string Placeholder(ListNode list, IntentSet intents) =>
        "{" + (intents.Lists.GetValueOrDefault(list.ListName) is RangeList ? TemplateMatcher.NumberList : list.ListName) + "}";

    private static bool HasWildcard(TemplateNode node, IntentSet intents) => node switch
    {
        ListNode list => !IntentSet.RegistryLists.Contains(list.ListName) && intents.Lists.GetValueOrDefault(list.ListName) is null or WildcardList,
        SequenceNode sequence => sequence.Items.Any(i => HasWildcard(i, intents)),
        AlternativeNode alternative => alternative.Options.Any(o => HasWildcard(o, intents)),
        PermutationNode permutation => permutation.Items.Any(i => HasWildcard(i, intents)),
        RuleNode rule => HasWildcard(intents.ExpansionRules[rule.Name], intents),
        _ => false,
    };

    private static double Count(TemplateNode node, IntentSet intents) => node switch
    {
        SequenceNode sequence => sequence.Items.Aggregate(1.0, (product, item) => product * Count(item, intents)),
        AlternativeNode alternative => alternative.Options.Sum(o => Count(o, intents)),
        PermutationNode permutation => Enumerable.Range(1, permutation.Items.Count).Aggregate(1.0, (f, k) => f * k) * permutation.Items.Aggregate(1.0, (product, item) => product * Count(item, intents)),
        RuleNode rule => Count(intents.ExpansionRules[rule.Name], intents),
        _ => 1,
    };

    private static IEnumerable<List<string>> Enumerate(TemplateNode node, IntentSet intents)
    {
        switch (node)
        {
            case WordsNode words:
                return [[.. words.Words]];
            case ListNode list:
                return [[Placeholder(list, intents)]];
            case RuleNode rule:
                return Enumerate(intents.ExpansionRules[rule.Name], intents);
            case AlternativeNode alternative:
                return alternative.Options.SelectMany(o => Enumerate(o, intents));
            case SequenceNode sequence:
                return Product(sequence.Items, intents);
            case PermutationNode permutation:
                return Orders(permutation.Items).SelectMany(order => Product(order, intents));
            default:
                return [];
        }
    }

    private static IEnumerable<List<string>> Product(IReadOnlyList<TemplateNode> items, IntentSet intents)
    {
        IEnumerable<List<string>> results = [[]];
        foreach (var item in items)
        {
            var current = item;
            results = results.SelectMany(prefix => Enumerate(current, intents).Select(suffix => (List<string>)[.. prefix, .. suffix]));
        }

        return results;
    }

    private static IEnumerable<IReadOnlyList<TemplateNode>> Orders(IReadOnlyList<TemplateNode> items) =>
        items.Count <= 1 ? [items] : items.SelectMany((first, i) => Orders([.. items.Where((_, j) => j != i)]).Select(rest => (IReadOnlyList<TemplateNode>)[first, .. rest]));

    private static List<string> Sample(TemplateNode node, IntentSet intents, Random random)
    {
        var words = new List<string>();
        Walk(node);
        return words;

        void Walk(TemplateNode current)
        {
            switch (current)
            {
                case WordsNode w:
                    words.AddRange(w.Words);
                    break;
                case ListNode list:
                    words.Add(Placeholder(list, intents));
                    break;
                case RuleNode rule:
                    Walk(intents.ExpansionRules[rule.Name]);
                    break;
                case AlternativeNode alternative:
                    Walk(alternative.Options[random.Next(alternative.Options.Count)]);
                    break;
                case SequenceNode sequence:
                    foreach (var item in sequence.Items)
                    {
                        Walk(item);
                    }

                    break;
                case PermutationNode permutation:
                    foreach (var item in permutation.Items.OrderBy(_ => random.Next()))
                    {
                        Walk(item);
                    }

                    break;
            }
        }
    }

    // ----- matching -----

    /// <summary>One way to read an utterance: its words with some stretches taken as slots.</summary>
    private sealed record Reading(List<string> Words, List<ListSpan> Spans, string Slots);

    /// <summary>Every way to take the found stretches as slots or as plain words (at most <see cref="MaxReadings"/>).</summary>
    private static List<Reading> Readings(IReadOnlyList<string> tokens, List<ListSpan> spans)
    {
        var readings = new List<Reading>();
        var words = new List<string>();
        var taken = new List<ListSpan>();
        Extend(0);
        return readings;

        void Extend(int position)
        {
            if (readings.Count >= MaxReadings)
            {
                return;
            }

            if (position == tokens.Count)
            {
                var slots = string.Join(',', words.Where(IsSlot).Order(StringComparer.Ordinal));
                readings.Add(new Reading([.. words], [.. taken], slots));
                return;
            }

            foreach (var span in spans.Where(s => s.Start == position))
            {
                words.Add("{" + span.List + "}");
                taken.Add(span);
                Extend(span.End);
                taken.RemoveAt(taken.Count - 1);
                words.RemoveAt(words.Count - 1);
            }

            words.Add(tokens[position]);
            Extend(position + 1);
            words.RemoveAt(words.Count - 1);
        }
    }

    /// <summary>What is learnt from the templates: word weights and the expansions by their slots. Read-only once trained.</summary>
    private sealed class Model(HashSet<string> refusals, HashSet<string> questionStarts, HashSet<string> fillers)
    {
        public HashSet<string> Refusals { get; } = refusals;

        public HashSet<string> QuestionStarts { get; } = questionStarts;

        public HashSet<string> Fillers { get; } = fillers;

        public Dictionary<string, int> WordIds { get; } = new(StringComparer.Ordinal);

        public List<double> Weights { get; } = [];

        public Dictionary<(string Slots, bool Question), List<Expansion>> BySlots { get; } = [];

        public double UnknownWeight { get; set; } = 1.0;

        public ((int Id, int Count)[] Bag, double Weight) Bag(List<string> words)
        {
            var ids = new int[words.Count];
            var known = 0;
            var weight = 0.0;
            foreach (var word in words)
            {
                if (WordIds.TryGetValue(word, out var id))
                {
                    ids[known++] = id;
                    weight += Weights[id];
                }
                else
                {
                    // A word no template uses weighs as much as one only a single intent uses, unless it is filler.
                    weight += Fillers.Contains(word) ? FillerWeight : UnknownWeight;
                }
            }

            Array.Sort(ids, 0, known);
            var bag = new List<(int Id, int Count)>(known);
            for (var i = 0; i < known; i++)
            {
                if (bag.Count > 0 && bag[^1].Id == ids[i])
                {
                    bag[^1] = (ids[i], bag[^1].Count + 1);
                }
                else
                {
                    bag.Add((ids[i], 1));
                }
            }

            return ([.. bag], weight);
        }

        public double Overlap((int Id, int Count)[] a, (int Id, int Count)[] b)
        {
            double overlap = 0;
            int i = 0, j = 0;
            while (i < a.Length && j < b.Length)
            {
                if (a[i].Id == b[j].Id)
                {
                    overlap += Math.Min(a[i].Count, b[j].Count) * Weights[a[i].Id];
                    i++;
                    j++;
                }
                else if (a[i].Id < b[j].Id)
                {
                    i++;
                }
                else
                {
                    j++;
                }
            }

            return overlap;
        }
    }

    /// <summary>The expansion with each placeholder replaced by the utterance's words for it, in order.</summary>
    private static List<string> Fill(Expansion expansion, Reading reading, IReadOnlyList<string> tokens)
    {
        var unused = new List<ListSpan>(reading.Spans);
        var words = new List<string>();
        foreach (var word in expansion.Words)
        {
            if (!IsSlot(word))
            {
                words.Add(word);
                continue;
            }

            var list = word[1..^1];
            var index = unused.FindIndex(s => s.List == list);
            var span = unused[index];
            unused.RemoveAt(index);
            words.AddRange(tokens.Skip(span.Start).Take(span.End - span.Start));
        }

        return words;
    }
}
