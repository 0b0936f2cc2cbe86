using System.Globalization;
using System.Text;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Core.Speech;

/// <summary>A closed-set speech grammar and the words it uses.</summary>
public sealed record SpeechGrammar(string Jsgf, IReadOnlySet<string> Words, int Sentences, int SkippedSentences);

/// <summary>
/// Compiles intent templates and the device registry into a JSGF grammar for a grammar-bound
/// recognizer: every sentence a template can produce, with device, area and floor names and
/// list values spelled out and numbers in words. Wildcards cannot be closed: an alternative that
/// needs one is left out, and so is a sentence that cannot do without one (both remain for open speech engines).
/// </summary>
public static class JsgfGrammarBuilder
{
    private const int MaxRangeValues = 1000;

    public static SpeechGrammar Build(IntentSet intents, DeviceRegistry registry, IEnumerable<string>? onlyIntents = null)
    {
        ArgumentNullException.ThrowIfNull(intents);
        ArgumentNullException.ThrowIfNull(registry);
        var context = new Context(intents, registry);
        var wanted = onlyIntents?.ToHashSet(StringComparer.Ordinal);
        var sentences = new List<string>();
        var skipped = 0;
        foreach (var data in intents.Data.Where(d => wanted is null || wanted.Contains(d.Intent)))
        {
            // Phrasings for text and open speech only (metadata closed_set: "no"): spelled out in a
            // closed grammar they would cost more memory and confusion than they earn.
            if (data.Metadata?.GetValueOrDefault("closed_set") == "no")
            {
                skipped += data.Sentences.Count;
                continue;
            }

            context.NamesFor(data);
            foreach (var (template, _, _) in data.Sentences)
            {
                var expression = context.Expression(template);
                if (expression is null)
                {
                    skipped++;
                    continue;
                }

                var name = $"s{sentences.Count}";
                context.Rules[name] = expression;
                sentences.Add($"<{name}>");
            }
        }

        if (sentences.Count == 0)
        {
            throw new InvalidOperationException("no sentence of these intents can be said in a closed grammar (all use wildcards)");
        }

        var jsgf = new StringBuilder("#JSGF V1.0;\ngrammar voicehub;\n");
        jsgf.Append("public <command> = ").AppendJoin(" | ", sentences).Append(";\n");
        foreach (var (rule, body) in context.Rules)
        {
            jsgf.Append(CultureInfo.InvariantCulture, $"<{rule}> = {body};\n");
        }

        return new SpeechGrammar(jsgf.ToString(), context.Words, sentences.Count, skipped);
    }

    private sealed class Context(IntentSet intents, DeviceRegistry registry)
    {
        private readonly Dictionary<string, string> _nameSets = new(StringComparer.Ordinal);
        private readonly Dictionary<string, bool> _rulesWithNames = new(StringComparer.Ordinal);
        private List<Entity> _names = [.. registry.Entities];
        private string _namesKey = string.Empty;

        public Dictionary<string, string> Rules { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// The devices a data block's sentences may name (its requires/excludes_context): "open
        /// {name}" offers only covers, so the recognizer has fewer names to confuse at that point.
        /// Each distinct set of names is one rule, and rules that use names are built per set.
        /// </summary>
        public void NamesFor(IntentData data)
        {
            _names = [.. registry.Entities.Where(data.Allows)];
            var ids = string.Join(',', _names.Select(e => e.Id));
            if (_names.Count == registry.Entities.Count)
            {
                _namesKey = string.Empty;
            }
            else if (!_nameSets.TryGetValue(ids, out _namesKey!))
            {
                _nameSets[ids] = _namesKey = "_n" + _nameSets.Count.ToString(CultureInfo.InvariantCulture);
            }
        }

        public HashSet<string> Words { get; } = new(StringComparer.Ordinal);

        /// <summary>The JSGF expression of a template node, or null when it cannot be closed (a wildcard).</summary>
        public string? Expression(TemplateNode node)
        {
            switch (node)
            {
                case WordsNode words:
                    Words.UnionWith(words.Words.SelectMany(Spoken));
                    return string.Join(' ', words.Words.SelectMany(Spoken));
                case SequenceNode sequence:
                    if (sequence.Items.Count == 0)
                    {
                        return "<NULL>";
                    }

                    var parts = new List<string>();
                    foreach (var item in sequence.Items)
                    {
                        var part = Expression(item);
                        if (part is null)
                        {
                            return null;
                        }

                        parts.Add(part);
                    }

                    return string.Join(' ', parts);
                case AlternativeNode alternative:
                    var options = new List<string>();
                    var optional = false;
                    foreach (var option in alternative.Options)
                    {
                        if (option is SequenceNode { Items.Count: 0 })
                        {
                            optional = true;
                            continue;
                        }

                        // An option with a wildcard cannot be said in a closed grammar; the others still can
                        // ("start a timer for five minutes" of "... [called {timer_name}]").
                        if (Expression(option) is { } expression)
                        {
                            options.Add(expression);
                        }
                    }

                    if (options.Count == 0)
                    {
                        return optional ? "<NULL>" : null;
                    }

                    var body = string.Join(" | ", options.Distinct(StringComparer.Ordinal));
                    return optional ? $"[ {body} ]" : $"( {body} )";
                case PermutationNode permutation:
                    var items = permutation.Items.Select(Expression).ToList();
                    if (items.Any(i => i is null))
                    {
                        return null;
                    }

                    var orders = new List<string>();
                    Permute([.. items!], 0, orders);
                    return $"( {string.Join(" | ", orders)} )";
                case RuleNode rule:
                    var ruleName = "r_" + Sanitize(rule.Name) + (UsesNames(rule.Name) ? _namesKey : string.Empty);
                    if (!Rules.ContainsKey(ruleName))
                    {
                        Rules[ruleName] = "<VOID>"; // placeholder while the body is built (rules are not recursive)
                        var ruleBody = Expression(intents.ExpansionRules[rule.Name]);
                        if (ruleBody is null)
                        {
                            Rules.Remove(ruleName);
                            return null;
                        }

                        Rules[ruleName] = ruleBody;
                    }

                    return Rules[ruleName] is "<VOID>" ? null : $"<{ruleName}>";
                case ListNode list:
                    return ListRule(list.ListName);
                default:
                    return null;
            }
        }

        private bool UsesNames(string rule)
        {
            if (!_rulesWithNames.TryGetValue(rule, out var uses))
            {
                _rulesWithNames[rule] = false; // rules are not recursive; this only guards the walk
                _rulesWithNames[rule] = uses = Mentions(intents.ExpansionRules[rule]);
            }

            return uses;

            bool Mentions(TemplateNode node) => node switch
            {
                ListNode list => list.ListName == "name",
                RuleNode inner => UsesNames(inner.Name),
                SequenceNode sequence => sequence.Items.Any(Mentions),
                AlternativeNode alternative => alternative.Options.Any(Mentions),
                PermutationNode permutation => permutation.Items.Any(Mentions),
                _ => false,
            };
        }

        private string? ListRule(string listName)
        {
            var ruleName = "l_" + Sanitize(listName) + (listName == "name" ? _namesKey : string.Empty);
            if (Rules.ContainsKey(ruleName))
            {
                return $"<{ruleName}>";
            }

            var phrases = new List<string>();
            switch (listName)
            {
                case "name":
                    if (_names.Count == 0)
                    {
                        return null; // no device of this kind: the block's sentences cannot be said
                    }

                    phrases.AddRange(_names.SelectMany(e => e.Aliases.Prepend(e.Name)).Select(Phrase));
                    break;
                case "area":
                    phrases.AddRange(registry.Areas.SelectMany(a => a.Aliases.Prepend(a.Name)).Select(Phrase));
                    break;
                case "floor":
                    phrases.AddRange(registry.Floors.SelectMany(f => f.Aliases.Prepend(f.Name)).Select(Phrase));
                    break;
                default:
                    switch (intents.Lists[listName])
                    {
                        case ValuesList values:
                            foreach (var value in values.Values)
                            {
                                if (Expression(value.Spoken) is { } spoken)
                                {
                                    phrases.Add(spoken);
                                }
                            }

                            break;
                        case RangeList range:
                            var count = 0;
                            for (var v = Math.Ceiling(range.From); v <= range.To && count < MaxRangeValues; v += Math.Max(1, range.Step), count++)
                            {
                                if (Math.Abs(Math.IEEERemainder(v - range.From, range.Step)) < 1e-9)
                                {
                                    phrases.Add(NumberWords.Spell((int)v));
                                }
                            }

                            break;
                        default:
                            return null; // wildcard: any words, which a closed grammar cannot say
                    }

                    break;
            }

            phrases = [.. phrases.Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)];
            if (phrases.Count == 0)
            {
                return null;
            }

            foreach (var phrase in phrases)
            {
                Words.UnionWith(phrase.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => w is not ("(" or ")" or "[" or "]" or "|") && !w.StartsWith('<')));
            }

            Rules[ruleName] = string.Join(" | ", phrases);
            return $"<{ruleName}>";
        }

        private string Phrase(string name)
        {
            var words = TextNormalizer.Tokenize(name).SelectMany(Spoken).ToList();
            Words.UnionWith(words);
            return string.Join(' ', words);
        }

        /// <summary>Words as a recognizer says them: digits become number words.</summary>
        private static IEnumerable<string> Spoken(string word) =>
            word.Length <= 4 && word.All(char.IsAsciiDigit) ? NumberWords.Spell(int.Parse(word, CultureInfo.InvariantCulture)).Split(' ') : [word];

        private static void Permute(string[] items, int k, List<string> orders)
        {
            if (k == items.Length)
            {
                orders.Add(string.Join(' ', items));
                return;
            }

            for (var i = k; i < items.Length; i++)
            {
                (items[k], items[i]) = (items[i], items[k]);
                Permute(items, k + 1, orders);
                (items[k], items[i]) = (items[i], items[k]);
            }
        }

        private static string Sanitize(string name) => new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
    }
}
