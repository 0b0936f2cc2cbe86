using System.Globalization;
using VoiceHub.Core.Devices;

namespace VoiceHub.Core.Intents.Templates;

/// <summary>A filled slot of a template match.</summary>
public sealed record Capture(string Slot, object Value, string Spoken, int Start, int End, ListMatch? List, bool IsWildcard);

/// <summary>Words <c>[Start, End)</c> that the list <paramref name="List"/> can fill (<see cref="TemplateMatcher.NumberList"/> for any number).</summary>
public readonly record struct ListSpan(int Start, int End, string List);

/// <summary>One way an utterance fits one sentence template.</summary>
public sealed record TemplateMatch(IntentData Data, string Sentence, SourceLocation Where, IReadOnlyList<Capture> Captures, double Score, int FuzzyEdits);

/// <summary>
/// The sentence templates of an <see cref="IntentSet"/>, compiled once against a device registry:
/// rules inlined, permutations expanded, every list turned into a word-indexed phrase index.
/// Matching walks the templates with backtracking over word tokens; the first pass is exact,
/// and only when nothing matches does a second pass allow speech-to-text slips in device, area
/// and floor names. Among complete matches the most specific wins (words explained by literal
/// text and names rather than by wildcards, fewer edits), then the first in file order.
/// </summary>
public sealed class TemplateMatcher
{
    private const int MaxMatchesPerUtterance = 64;
    private const int MaxPermutationItems = 6;
    private readonly IntentSet _intents;
    private readonly List<CompiledSentence> _sentences = [];
    private readonly Dictionary<string, PhraseIndex> _phraseLists = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RangeList> _ranges = new(StringComparer.Ordinal);
    private readonly HashSet<string> _templateWords = new(StringComparer.Ordinal);

    public TemplateMatcher(IntentSet intents, DeviceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(intents);
        ArgumentNullException.ThrowIfNull(registry);
        _intents = intents;
        Registry = registry;
        foreach (var (name, list) in intents.Lists)
        {
            switch (list)
            {
                case ValuesList values:
                    _phraseLists[name] = IndexValues(values);
                    break;
                case RangeList range:
                    _ranges[name] = range;
                    break;
            }
        }

        _phraseLists["name"] = IndexNames(registry);
        _phraseLists["area"] = IndexAreas(registry);
        _phraseLists["floor"] = IndexFloors(registry);
        foreach (var data in intents.Data)
        {
            foreach (var (template, text, where) in data.Sentences)
            {
                var root = Compile(template);
                _sentences.Add(new CompiledSentence(data, text, where, root, FirstWords(root)));
            }
        }
    }

    public DeviceRegistry Registry { get; }

    public IntentSet Intents => _intents;

    public int SentenceCount => _sentences.Count;

    /// <summary>What <see cref="FindListSpans"/> calls a number, which any range list may take.</summary>
    public const string NumberList = "#number";

    /// <summary>The words left once the intents' skip words ("please", "could you") are taken out.</summary>
    public IReadOnlyList<string> WithoutSkipWords(IReadOnlyList<string> words) => RemoveSkipWords(words, words).Tokens;

    /// <summary>
    /// Every stretch of words a list could fill: list values, device, area and floor names (also
    /// when slightly misheard), and numbers (the longest reading at each word).
    /// </summary>
    public List<ListSpan> FindListSpans(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var spans = new HashSet<ListSpan>();
        for (var start = 0; start < tokens.Count; start++)
        {
            foreach (var (list, phrases) in _phraseLists)
            {
                var exact = false;
                foreach (var (end, _) in phrases.MatchExact(tokens, start))
                {
                    spans.Add(new ListSpan(start, end, list));
                    exact = true;
                }

                // A misheard name starts with a word no template uses, or with a name's own first word.
                if (!exact && IntentSet.RegistryLists.Contains(list) && (!_templateWords.Contains(tokens[start]) || phrases.HasFirstWord(tokens[start])))
                {
                    // Only longer names: a short word one letter from a name ("call", "hall") is no slip.
                    foreach (var (end, _) in phrases.MatchFuzzy(tokens, start).Where(m => Letters(tokens, start, m.End) >= MinimumFuzzySpanLetters))
                    {
                        spans.Add(new ListSpan(start, end, list));
                    }
                }
            }

            if (_ranges.Count > 0 && NumberWords.ReadAt(tokens, start).Select(n => n.End).DefaultIfEmpty(-1).Max() is var numberEnd and > 0)
            {
                spans.Add(new ListSpan(start, numberEnd, NumberList));
            }
        }

        return [.. spans.OrderBy(s => s.Start).ThenByDescending(s => s.End)];
    }

    private const int MinimumFuzzySpanLetters = 6;

    private static int Letters(IReadOnlyList<string> tokens, int start, int end)
    {
        var letters = 0;
        for (var i = start; i < end; i++)
        {
            letters += tokens[i].Length;
        }

        return letters;
    }

    /// <summary>All ways the words fit, best first (empty when nothing fits).</summary>
    public IReadOnlyList<TemplateMatch> Match(IReadOnlyList<string> words, IReadOnlyDictionary<string, string>? context = null) => Match(words, words, context);

    /// <summary>Matches text; wildcard slots capture its words as written ("play The Office").</summary>
    public IReadOnlyList<TemplateMatch> Match(string text, IReadOnlyDictionary<string, string>? context = null) =>
        Match(TextNormalizer.Tokenize(text), TextNormalizer.Tokenize(text, keepCase: true), context);

    private List<TemplateMatch> Match(IReadOnlyList<string> words, IReadOnlyList<string> written, IReadOnlyDictionary<string, string>? context)
    {
        ArgumentNullException.ThrowIfNull(words);
        context ??= new Dictionary<string, string>();
        var (tokens, writtenTokens) = RemoveSkipWords(words, written);
        if (tokens.Count == 0)
        {
            return [];
        }

        var matches = Run(tokens, writtenTokens, context, fuzzy: false);
        if (matches.Count == 0)
        {
            matches = Run(tokens, writtenTokens, context, fuzzy: true);
        }

        return [.. matches.OrderByDescending(m => m.Score).ThenBy(m => m.Data.Order)];
    }

    private List<TemplateMatch> Run(List<string> tokens, List<string> written, IReadOnlyDictionary<string, string> context, bool fuzzy)
    {
        var run = new MatchRun(this, tokens, written, context, fuzzy);
        foreach (var sentence in _sentences)
        {
            if (sentence.FirstWords is { } first && !first.Contains(tokens[0]))
            {
                continue; // cannot start with this word: skip without walking the template
            }

            run.Sentence = sentence;
            run.Walk(sentence.Root, 0, run.Complete);
            if (run.Results.Count >= MaxMatchesPerUtterance)
            {
                break;
            }
        }

        return run.Results;
    }

    private (List<string> Tokens, List<string> Written) RemoveSkipWords(IReadOnlyList<string> words, IReadOnlyList<string> written)
    {
        var tokens = new List<string>(words);
        var writtenTokens = new List<string>(written.Count == words.Count ? written : words);
        foreach (var skip in _intents.SkipWords)
        {
            for (var i = 0; i + skip.Length <= tokens.Count; i++)
            {
                if (tokens.Skip(i).Take(skip.Length).SequenceEqual(skip, StringComparer.Ordinal))
                {
                    tokens.RemoveRange(i, skip.Length);
                    writtenTokens.RemoveRange(i, skip.Length);
                    i--;
                }
            }
        }

        return (tokens, writtenTokens);
    }

    // ----- compilation -----

    private Node Compile(TemplateNode node) => node switch
    {
        WordsNode words => Words(words),
        SequenceNode sequence => sequence.Items.Count == 1 ? Compile(sequence.Items[0]) : new SequenceMatch([.. sequence.Items.Select(Compile)]),
        AlternativeNode alternative => new AlternativeMatch([.. alternative.Options.Select(Compile)]),
        PermutationNode permutation => CompilePermutation(permutation),
        RuleNode rule => Compile(_intents.ExpansionRules[rule.Name]),
        ListNode list => CompileList(list),
        _ => throw new InvalidOperationException($"unknown template node {node}"),
    };

    private WordsMatch Words(WordsNode words)
    {
        _templateWords.UnionWith(words.Words);
        return new WordsMatch([.. words.Words]);
    }

    private AlternativeMatch CompilePermutation(PermutationNode permutation)
    {
        if (permutation.Items.Count > MaxPermutationItems)
        {
            throw new TemplateSyntaxException($"a permutation of {permutation.Items.Count} parts is too large (at most {MaxPermutationItems})");
        }

        var items = permutation.Items.Select(Compile).ToArray();
        var orders = new List<Node>();
        Permute(items, 0, orders);
        return new AlternativeMatch([.. orders]);
    }

    private static void Permute(Node[] items, int k, List<Node> orders)
    {
        if (k == items.Length)
        {
            orders.Add(new SequenceMatch([.. items]));
            return;
        }

        for (var i = k; i < items.Length; i++)
        {
            (items[k], items[i]) = (items[i], items[k]);
            Permute(items, k + 1, orders);
            (items[k], items[i]) = (items[i], items[k]);
        }
    }

    private Node CompileList(ListNode list)
    {
        if (_phraseLists.TryGetValue(list.ListName, out var phrases))
        {
            return new PhraseSlot(list.SlotName, list.ListName, phrases, IntentSet.RegistryLists.Contains(list.ListName));
        }

        if (_ranges.TryGetValue(list.ListName, out var range))
        {
            return new RangeSlot(list.SlotName, range);
        }

        return new WildcardSlot(list.SlotName);
    }

    private static PhraseIndex IndexValues(ValuesList list)
    {
        var index = new PhraseIndex();
        foreach (var value in list.Values)
        {
            foreach (var phrase in Expand(value.Spoken).Take(1000))
            {
                index.Add([.. phrase], new ListMatch(value.Out, value.SpokenText, value.Context, []));
            }
        }

        return index;
    }

    private static PhraseIndex IndexNames(DeviceRegistry registry)
    {
        // One value per spoken phrase; a phrase several entities share keeps them all (resolved later).
        var byPhrase = new Dictionary<string, List<Entity>>(StringComparer.Ordinal);
        foreach (var entity in registry.Entities)
        {
            foreach (var name in entity.Aliases.Prepend(entity.Name))
            {
                var phrase = TextNormalizer.Normalize(name);
                if (phrase.Length == 0)
                {
                    continue;
                }

                if (!byPhrase.TryGetValue(phrase, out var list))
                {
                    byPhrase[phrase] = list = [];
                }

                if (!list.Contains(entity))
                {
                    list.Add(entity);
                }
            }
        }

        var index = new PhraseIndex();
        foreach (var (phrase, entities) in byPhrase)
        {
            var value = new ListMatch(entities[0].Name, phrase, new Dictionary<string, string>(), entities);
            var words = phrase.Split(' ');
            index.Add(words, value);
            if (words.Any(IsSmallNumber))
            {
                // "Lamp 2" is said "lamp two" (and a grammar-bound recognizer writes it that way).
                index.Add(string.Join(' ', words.Select(w => IsSmallNumber(w) ? NumberWords.Spell(int.Parse(w, CultureInfo.InvariantCulture)) : w)).Split(' '), value);
            }
        }

        return index;
    }

    private static bool IsSmallNumber(string word) => word.Length <= 4 && word.All(char.IsAsciiDigit);

    private static PhraseIndex IndexAreas(DeviceRegistry registry)
    {
        var index = new PhraseIndex();
        foreach (var area in registry.Areas)
        {
            foreach (var name in area.Aliases.Prepend(area.Name))
            {
                index.Add(TextNormalizer.Tokenize(name), new ListMatch(area.Name, name, new Dictionary<string, string> { ["area"] = area.Id }, [], Area: area));
            }
        }

        return index;
    }

    private static PhraseIndex IndexFloors(DeviceRegistry registry)
    {
        var index = new PhraseIndex();
        foreach (var floor in registry.Floors)
        {
            foreach (var name in floor.Aliases.Prepend(floor.Name))
            {
                index.Add(TextNormalizer.Tokenize(name), new ListMatch(floor.Name, name, new Dictionary<string, string> { ["floor"] = floor.Id }, [], Floor: floor));
            }
        }

        return index;
    }

    /// <summary>Every word sequence a list value's template can be spoken as.</summary>
    private static IEnumerable<List<string>> Expand(TemplateNode node)
    {
        switch (node)
        {
            case WordsNode words:
                yield return [.. words.Words];
                break;
            case SequenceNode sequence:
                IEnumerable<List<string>> results = [[]];
                foreach (var item in sequence.Items)
                {
                    var current = item;
                    results = results.SelectMany(prefix => Expand(current).Select(suffix => prefix.Concat(suffix).ToList()));
                }

                foreach (var r in results)
                {
                    yield return r;
                }

                break;
            case AlternativeNode alternative:
                foreach (var option in alternative.Options)
                {
                    foreach (var r in Expand(option))
                    {
                        yield return r;
                    }
                }

                break;
            default:
                throw new TemplateSyntaxException($"list values may use only words, (a|b) and [x], not {node.GetType().Name}");
        }
    }

    /// <summary>The words a template can start with, or null when it can start with a slot or be empty.</summary>
    private static HashSet<string>? FirstWords(Node node)
    {
        switch (node)
        {
            case WordsMatch words:
                return words.Words.Length == 0 ? null : [words.Words[0]];
            case SequenceMatch sequence:
                return sequence.Items.Length == 0 ? null : FirstWords(sequence.Items[0]);
            case AlternativeMatch alternative:
                var union = new HashSet<string>(StringComparer.Ordinal);
                foreach (var option in alternative.Options)
                {
                    if (FirstWords(option) is not { } first)
                    {
                        return null;
                    }

                    union.UnionWith(first);
                }

                return union;
            default:
                return null;
        }
    }

    // ----- matching -----

    private abstract record Node;

    private sealed record WordsMatch(string[] Words) : Node;

    private sealed record SequenceMatch(Node[] Items) : Node;

    private sealed record AlternativeMatch(Node[] Options) : Node;

    private sealed record PhraseSlot(string Slot, string ListName, PhraseIndex Phrases, bool FromRegistry) : Node;

    private sealed record RangeSlot(string Slot, RangeList Range) : Node;

    private sealed record WildcardSlot(string Slot) : Node;

    private sealed record CompiledSentence(IntentData Data, string Text, SourceLocation Where, Node Root, HashSet<string>? FirstWords);

    /// <summary>The state of matching one utterance: captures and word counts kept on stacks while backtracking.</summary>
    private sealed class MatchRun(TemplateMatcher owner, IReadOnlyList<string> tokens, IReadOnlyList<string> written, IReadOnlyDictionary<string, string> context, bool fuzzy)
    {
        private readonly List<Capture> _captures = [];
        private readonly Dictionary<(PhraseIndex, int), List<(int End, ListMatch Value)>> _fuzzyCache = [];
        private int _literalWords;
        private int _listWords;
        private int _wildcardWords;
        private int _fuzzyEdits;

        public List<TemplateMatch> Results { get; } = [];

        public CompiledSentence Sentence { get; set; } = null!;

        /// <summary>Matches <paramref name="node"/> at <paramref name="position"/>; returns true to stop the search.</summary>
        public bool Walk(Node node, int position, Func<int, bool> next)
        {
            switch (node)
            {
                case WordsMatch words:
                    if (position + words.Words.Length > tokens.Count)
                    {
                        return false;
                    }

                    for (var i = 0; i < words.Words.Length; i++)
                    {
                        if (tokens[position + i] != words.Words[i])
                        {
                            return false;
                        }
                    }

                    _literalWords += words.Words.Length;
                    var stop = next(position + words.Words.Length);
                    _literalWords -= words.Words.Length;
                    return stop;

                case SequenceMatch sequence:
                    return WalkSequence(sequence.Items, 0, position, next);

                case AlternativeMatch alternative:
                    foreach (var option in alternative.Options)
                    {
                        if (Walk(option, position, next))
                        {
                            return true;
                        }
                    }

                    return false;

                case PhraseSlot slot:
                    foreach (var (end, value) in Phrases(slot, position))
                    {
                        if (Fill(new Capture(slot.Slot, value.Out, Spoken(position, end), position, end, value, false), next, listWords: end - position, edits: value.FuzzyEdits))
                        {
                            return true;
                        }
                    }

                    return false;

                case RangeSlot slot:
                    foreach (var (number, end) in NumberWords.ReadAt(tokens, position))
                    {
                        var range = slot.Range;
                        if (number < range.From || number > range.To || Math.Abs(Math.IEEERemainder(number - range.From, range.Step)) > 1e-9)
                        {
                            continue;
                        }

                        var value = number * range.Multiplier;
                        object boxed = Math.Abs(value - Math.Round(value)) < 1e-9 ? (object)(long)Math.Round(value) : value;
                        if (Fill(new Capture(slot.Slot, boxed, Spoken(position, end), position, end, null, false), next, listWords: end - position, edits: 0))
                        {
                            return true;
                        }
                    }

                    return false;

                case WildcardSlot slot:
                    // Shortest first, so literal text after the wildcard gets the words it names.
                    for (var end = position + 1; end <= tokens.Count; end++)
                    {
                        var text = string.Join(' ', written.Skip(position).Take(end - position));
                        _wildcardWords += end - position;
                        var stopped = Fill(new Capture(slot.Slot, text, text, position, end, null, true), next, listWords: 0, edits: 0);
                        _wildcardWords -= end - position;
                        if (stopped)
                        {
                            return true;
                        }
                    }

                    return false;

                default:
                    return false;
            }
        }

        private bool WalkSequence(Node[] items, int index, int position, Func<int, bool> next) =>
            index == items.Length ? next(position) : Walk(items[index], position, p => WalkSequence(items, index + 1, p, next));

        private IEnumerable<(int End, ListMatch Value)> Phrases(PhraseSlot slot, int position)
        {
            foreach (var exact in slot.Phrases.MatchExact(tokens, position))
            {
                yield return exact;
            }

            if (fuzzy && slot.FromRegistry)
            {
                if (!_fuzzyCache.TryGetValue((slot.Phrases, position), out var close))
                {
                    _fuzzyCache[(slot.Phrases, position)] = close = slot.Phrases.MatchFuzzy(tokens, position);
                }

                foreach (var match in close)
                {
                    yield return match;
                }
            }
        }

        private bool Fill(Capture capture, Func<int, bool> next, int listWords, int edits)
        {
            _captures.Add(capture);
            _listWords += listWords;
            _fuzzyEdits += edits;
            var stop = next(capture.End);
            _fuzzyEdits -= edits;
            _listWords -= listWords;
            _captures.RemoveAt(_captures.Count - 1);
            return stop;
        }

        private string Spoken(int start, int end) => string.Join(' ', tokens.Skip(start).Take(end - start));

        /// <summary>The end of a template: keep the match when every word is explained and the context allows it.</summary>
        public bool Complete(int position)
        {
            if (position != tokens.Count)
            {
                return false;
            }

            var captures = ApplyContext(Sentence.Data, [.. _captures]);
            if (captures is null)
            {
                return false;
            }

            // Names and list values weigh a little more than literal words: "turn on the kitchen light"
            // means the entity named "kitchen light" before the lights of the area "kitchen".
            var score = (10.0 * _literalWords) + (11.0 * _listWords) + (3.0 * _wildcardWords) - (15.0 * _fuzzyEdits);
            Results.Add(new TemplateMatch(Sentence.Data, Sentence.Text, Sentence.Where, captures, score, _fuzzyEdits));
            return Results.Count >= MaxMatchesPerUtterance;
        }

        /// <summary>
        /// Applies a data block's requires_context/excludes_context: device names keep only the
        /// entities that fit (domain, device class, area), an area "slot: true" comes from the
        /// speaker's context, and other keys are checked against list values' contexts.
        /// </summary>
        private List<Capture>? ApplyContext(IntentData data, List<Capture> captures)
        {
            var valueContext = new Dictionary<string, string>(context, StringComparer.Ordinal);
            foreach (var capture in captures)
            {
                if (capture.List is { } list)
                {
                    foreach (var (k, v) in list.Context)
                    {
                        valueContext[k] = v;
                    }
                }
            }

            for (var i = 0; i < captures.Count; i++)
            {
                if (captures[i].List is { Entities.Count: > 0 } names)
                {
                    var kept = names.Entities.Where(data.Allows).ToList();
                    if (kept.Count == 0)
                    {
                        return null;
                    }

                    captures[i] = captures[i] with { List = names with { Entities = kept, Out = kept[0].Name } };
                }
            }

            foreach (var (key, requirement) in data.RequiresContext)
            {
                if (key is "domain" or "device_class" && captures.Any(c => c.List?.Entities.Count > 0))
                {
                    continue; // checked against the entities above
                }

                if (requirement.FromContextSlot)
                {
                    if (captures.Any(c => c.Slot == key))
                    {
                        continue;
                    }

                    if (!context.TryGetValue(key, out var contextValue))
                    {
                        continue; // the speaker's room is unknown: target resolution asks which one
                    }

                    var area = key == "area" ? owner.Registry.FindAreaByName(contextValue) ?? owner.Registry.FindArea(contextValue) : null;
                    captures.Add(new Capture(key, area?.Name ?? contextValue, contextValue, tokens.Count, tokens.Count, area is null ? null : new ListMatch(area.Name, contextValue, new Dictionary<string, string>(), [], Area: area), false));
                    continue;
                }

                if (key is "domain" or "device_class")
                {
                    continue; // no entity named: the fixed slots say which domain is meant
                }

                if (!valueContext.TryGetValue(key, out var actual) || !requirement.Values.Contains(actual, StringComparer.Ordinal))
                {
                    return null;
                }
            }

            foreach (var (key, requirement) in data.ExcludesContext)
            {
                if (key is "domain" or "device_class")
                {
                    continue;
                }

                if (valueContext.TryGetValue(key, out var actual) && requirement.Values.Contains(actual, StringComparer.Ordinal))
                {
                    return null;
                }
            }

            return captures;
        }
    }
}

internal static class NumberFormatting
{
    public static string Format(object value) => value switch
    {
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
