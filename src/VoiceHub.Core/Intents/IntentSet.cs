using System.Globalization;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents.Templates;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VoiceHub.Core.Intents;

/// <summary>A list entry: what is said (a template, so it may have alternatives) and what the slot becomes.</summary>
public sealed record ListValue(TemplateNode Spoken, string SpokenText, object Out, IReadOnlyDictionary<string, string> Context);

/// <summary>A slot list of an intents file.</summary>
public abstract record SlotList(string Name);

public sealed record ValuesList(string Name, IReadOnlyList<ListValue> Values) : SlotList(Name);

public sealed record RangeList(string Name, double From, double To, double Step, double Multiplier) : SlotList(Name);

public sealed record WildcardList(string Name) : SlotList(Name);

/// <summary>Where a template came from, for error messages and reports.</summary>
public sealed record SourceLocation(string File, long Line)
{
    public override string ToString() => $"{File}: line {Line}";
}

/// <summary>One <c>data</c> block of an intent: its sentences and what they add or require.</summary>
public sealed record IntentData(
    string Intent,
    IReadOnlyList<(TemplateNode Template, string Text, SourceLocation Where)> Sentences,
    IReadOnlyDictionary<string, object> FixedSlots,
    IReadOnlyDictionary<string, ContextRequirement> RequiresContext,
    IReadOnlyDictionary<string, ContextRequirement> ExcludesContext,
    string? Response,
    int Order,
    IReadOnlyDictionary<string, string>? Metadata = null)
{
    /// <summary>Whether a device may be named in this block's sentences: its domain and device class fit requires_context and excludes_context.</summary>
    public bool Allows(Devices.Entity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        foreach (var (key, requirement) in RequiresContext)
        {
            if (key is "domain" or "device_class" && (EntityValue(entity, key) is not { } actual || !requirement.Values.Contains(actual, StringComparer.Ordinal)))
            {
                return false;
            }
        }

        foreach (var (key, requirement) in ExcludesContext)
        {
            if (EntityValue(entity, key) is { } actual && requirement.Values.Contains(actual, StringComparer.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static string? EntityValue(Devices.Entity entity, string key) => key switch
    {
        "domain" => entity.Domain,
        "device_class" => entity.DeviceClass,
        _ => null,
    };
}

/// <summary>A <c>requires_context</c>/<c>excludes_context</c> entry: allowed values, or "fill the slot from the context".</summary>
public sealed record ContextRequirement(IReadOnlyList<string> Values, bool FromContextSlot);

/// <summary>
/// Everything loaded from one or more intents files (the Home Assistant / hassil format):
/// intents with their data blocks, expansion rules, lists, skip words and spoken responses.
/// </summary>
public sealed class IntentSet
{
    /// <summary>The English intents shipped beside the program.</summary>
    public static string ShippedDirectory => Path.Combine(AppContext.BaseDirectory, "intents", "en");

    private IntentSet(string language, List<IntentData> data, Dictionary<string, (TemplateNode Node, SourceLocation Where)> rules,
        Dictionary<string, (SlotList List, SourceLocation Where)> lists, List<string[]> skipWords, Dictionary<string, Dictionary<string, string>> responses, IReadOnlyList<string> files)
    {
        Language = language;
        Data = data;
        ExpansionRules = rules.ToDictionary(kv => kv.Key, kv => kv.Value.Node, StringComparer.Ordinal);
        Lists = lists.ToDictionary(kv => kv.Key, kv => kv.Value.List, StringComparer.Ordinal);
        SkipWords = skipWords;
        Responses = responses;
        Files = files;
    }

    /// <summary>Lists filled from the device registry rather than the intents files.</summary>
    public static IReadOnlySet<string> RegistryLists { get; } = new HashSet<string>(StringComparer.Ordinal) { "name", "area", "floor" };

    public string Language { get; }

    public IReadOnlyList<IntentData> Data { get; }

    public IReadOnlyDictionary<string, TemplateNode> ExpansionRules { get; }

    public IReadOnlyDictionary<string, SlotList> Lists { get; }

    public IReadOnlyList<string[]> SkipWords { get; }

    /// <summary>Intent name → response key → text with <c>{slot}</c> placeholders.</summary>
    public IReadOnlyDictionary<string, Dictionary<string, string>> Responses { get; }

    public IReadOnlyList<string> Files { get; }

    public IEnumerable<string> IntentNames => Data.Select(d => d.Intent).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// Loads a file, or every *.yaml in a folder (sorted), as one set. A checkout of
    /// home-assistant/intents (a folder with <c>sentences/</c>) loads <c>sentences/LANGUAGE</c>;
    /// its <c>responses/</c> are Jinja templates for Home Assistant, so VoiceHub answers in its own words.
    /// </summary>
    public static IntentSet Load(string path, string language = "en")
    {
        ArgumentNullException.ThrowIfNull(path);
        var checkout = Path.Combine(path, "sentences");
        if (Directory.Exists(checkout))
        {
            path = Path.Combine(checkout, language);
            if (!Directory.Exists(path))
            {
                var languages = Directory.GetDirectories(checkout).Select(Path.GetFileName).Order(StringComparer.Ordinal);
                throw new ConfigurationFileException($"{checkout}: no '{language}' sentences in this home-assistant/intents checkout (it has: {string.Join(", ", languages)}); name the language folder, e.g. {Path.Combine(checkout, "de")}");
            }
        }

        string[] files;
        if (Directory.Exists(path))
        {
            files = Directory.GetFiles(path, "*.yaml").Concat(Directory.GetFiles(path, "*.yml")).Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0)
            {
                throw new ConfigurationFileException($"{path}: no *.yaml intents files in this folder");
            }
        }
        else if (File.Exists(path))
        {
            files = [path];
        }
        else
        {
            throw new ConfigurationFileException($"{path}: no such intents file or folder");
        }

        return Parse(files.Select(f => (f, YamlFile.ReadText(f))));
    }

    public static IntentSet Parse(string file, string yaml) => Parse([(file, yaml)]);

    public static IntentSet Parse(IEnumerable<(string File, string Yaml)> files)
    {
        var loader = new Loader();
        foreach (var (file, yaml) in files)
        {
            loader.Read(YamlFile.Parse(file, yaml));
        }

        return loader.Finish();
    }

    private sealed class Loader
    {
        private readonly List<IntentData> _data = [];
        private readonly Dictionary<string, (TemplateNode Node, SourceLocation Where)> _rules = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (SlotList List, SourceLocation Where)> _lists = new(StringComparer.Ordinal);
        private readonly List<string[]> _skipWords = [];
        private readonly Dictionary<string, Dictionary<string, string>> _responses = new(StringComparer.Ordinal);
        private readonly List<Dictionary<string, TemplateNode>> _localRules = []; // per data block, in _data's order
        private readonly List<string> _files = [];
        private string? _language;

        public void Read(YamlFile document)
        {
            _files.Add(document.Path);
            var root = document.Mapping(document.Root, "an intents file");
            foreach (var (keyNode, value) in root.Children)
            {
                var key = document.Scalar(keyNode, "a key");
                switch (key)
                {
                    case "language":
                        var language = document.Scalar(value, "language");
                        if (_language is not null && _language != language)
                        {
                            throw document.Error(value, $"language '{language}' differs from '{_language}' of the other files");
                        }

                        _language = language;
                        break;
                    case "intents":
                        foreach (var (nameNode, intent) in document.Mapping(value, "intents").Children)
                        {
                            ReadIntent(document, document.Scalar(nameNode, "an intent name"), document.Mapping(intent, "an intent"));
                        }

                        break;
                    case "expansion_rules":
                        foreach (var (nameNode, rule) in document.Mapping(value, "expansion_rules").Children)
                        {
                            var name = document.Scalar(nameNode, "a rule name");
                            var where = new SourceLocation(document.Path, rule.Start.Line);
                            if (_rules.TryGetValue(name, out var existing))
                            {
                                throw document.Error(nameNode, $"expansion rule '{name}' is defined twice (also at {existing.Where})");
                            }

                            _rules[name] = (ParseTemplate(document, rule, document.Scalar(rule, $"rule '{name}'")), where);
                        }

                        break;
                    case "lists":
                        foreach (var (nameNode, list) in document.Mapping(value, "lists").Children)
                        {
                            var name = document.Scalar(nameNode, "a list name");
                            if (_lists.TryGetValue(name, out var existing))
                            {
                                throw document.Error(nameNode, $"list '{name}' is defined twice (also at {existing.Where})");
                            }

                            if (RegistryLists.Contains(name))
                            {
                                throw document.Error(nameNode, $"list '{name}' comes from the devices file and cannot be defined here");
                            }

                            _lists[name] = (ReadList(document, name, document.Mapping(list, $"list '{name}'")), new SourceLocation(document.Path, list.Start.Line));
                        }

                        break;
                    case "skip_words":
                        _skipWords.AddRange(document.Sequence(value, "skip_words").Children.Select(c => TextNormalizer.Tokenize(document.Scalar(c, "a skip word"))).Where(w => w.Length > 0));
                        break;
                    case "responses":
                        foreach (var (intentNode, keys) in document.Mapping(value, "responses").Children)
                        {
                            var intent = document.Scalar(intentNode, "an intent name");
                            var table = _responses.TryGetValue(intent, out var t) ? t : _responses[intent] = new(StringComparer.Ordinal);
                            foreach (var (k, text) in document.Mapping(keys, $"responses of {intent}").Children)
                            {
                                table[document.Scalar(k, "a response key")] = document.Scalar(text, "a response");
                            }
                        }

                        break;
                    default:
                        throw document.Error(keyNode, $"unknown section '{key}' (language, intents, expansion_rules, lists, skip_words, responses)");
                }
            }
        }

        private void ReadIntent(YamlFile document, string intent, YamlMappingNode node)
        {
            var data = YamlFile.Child(node, "data") ?? throw document.Error(node, $"intent {intent} has no 'data' list");
            foreach (var block in document.Sequence(data, $"data of {intent}").Children)
            {
                var mapping = document.Mapping(block, $"a data block of {intent}");
                foreach (var key in mapping.Children.Keys)
                {
                    var name = document.Scalar(key, "a key");
                    if (name is not ("sentences" or "slots" or "requires_context" or "excludes_context" or "response" or "metadata" or "expansion_rules"))
                    {
                        throw document.Error(key, $"unknown key '{name}' in a data block of {intent} (sentences, slots, requires_context, excludes_context, expansion_rules, response, metadata)");
                    }
                }

                // Rules of this block alone (hassil's data-level expansion_rules): inlined into its sentences at Finish.
                var localRules = new Dictionary<string, TemplateNode>(StringComparer.Ordinal);
                if (YamlFile.Child(mapping, "expansion_rules") is { } rulesNode)
                {
                    foreach (var (nameNode, rule) in document.Mapping(rulesNode, "expansion_rules").Children)
                    {
                        var name = document.Scalar(nameNode, "a rule name");
                        localRules[name] = ParseTemplate(document, rule, document.Scalar(rule, $"rule '{name}'"));
                    }
                }

                var sentencesNode = YamlFile.Child(mapping, "sentences") ?? throw document.Error(block, $"a data block of {intent} has no sentences");
                var sentences = new List<(TemplateNode, string, SourceLocation)>();
                foreach (var sentence in document.Sequence(sentencesNode, "sentences").Children)
                {
                    var text = document.Scalar(sentence, "a sentence");
                    var where = new SourceLocation(document.Path, sentence.Start.Line);
                    sentences.Add((ParseTemplate(document, sentence, text), text, where));
                }

                var slots = YamlFile.Child(mapping, "slots") is { } slotsNode
                    ? document.Mapping(slotsNode, "slots").Children.ToDictionary(kv => document.Scalar(kv.Key, "a slot name"), kv => ScalarValue(document, kv.Value), StringComparer.Ordinal)
                    : new Dictionary<string, object>(StringComparer.Ordinal);
                _data.Add(new IntentData(
                    intent,
                    sentences,
                    slots,
                    ReadContext(document, mapping, "requires_context"),
                    ReadContext(document, mapping, "excludes_context"),
                    document.OptionalString(mapping, "response"),
                    _data.Count,
                    YamlFile.Child(mapping, "metadata") is { } metadataNode
                        ? document.Mapping(metadataNode, "metadata").Children.ToDictionary(kv => document.Scalar(kv.Key, "a metadata key"), kv => document.Scalar(kv.Value, "a metadata value"), StringComparer.Ordinal)
                        : null));
                _localRules.Add(localRules);
            }
        }

        private static Dictionary<string, ContextRequirement> ReadContext(YamlFile document, YamlMappingNode block, string key)
        {
            var result = new Dictionary<string, ContextRequirement>(StringComparer.Ordinal);
            if (YamlFile.Child(block, key) is not { } node)
            {
                return result;
            }

            foreach (var (nameNode, value) in document.Mapping(node, key).Children)
            {
                var name = document.Scalar(nameNode, "a context key");
                result[name] = value switch
                {
                    YamlMappingNode m when document.OptionalString(m, "slot") is "true" => new ContextRequirement([], true),
                    YamlSequenceNode s => new ContextRequirement([.. s.Children.Select(c => document.Scalar(c, "a context value"))], false),
                    _ => new ContextRequirement([document.Scalar(value, "a context value")], false),
                };
            }

            return result;
        }

        private static SlotList ReadList(YamlFile document, string name, YamlMappingNode node)
        {
            if (YamlFile.Child(node, "wildcard") is { } wildcard)
            {
                return document.Scalar(wildcard, "wildcard") == "true" ? new WildcardList(name) : throw document.Error(wildcard, "wildcard must be true");
            }

            if (YamlFile.Child(node, "range") is { } rangeNode)
            {
                var range = document.Mapping(rangeNode, "range");
                double Number(string key, double? fallback)
                {
                    var text = document.OptionalString(range, key);
                    if (text is null)
                    {
                        return fallback ?? throw document.Error(rangeNode, $"range of list '{name}' has no '{key}'");
                    }

                    return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                        ? number
                        : throw document.Error(rangeNode, $"range '{key}' of list '{name}' is not a number: {text}");
                }

                foreach (var key in range.Children.Keys.Select(k => document.Scalar(k, "a range key")))
                {
                    if (key is not ("from" or "to" or "step" or "multiplier" or "type" or "fractions" or "digits" or "words" or "words_language" or "words_rule"))
                    {
                        throw document.Error(rangeNode, $"unknown key '{key}' in range of list '{name}' (from, to, step, multiplier, type, fractions, digits, words)");
                    }
                }

                var from = Number("from", null);
                var to = Number("to", null);
                // hassil's fractions: "halves" takes 20.5, "tenths" 20.3, between the whole steps.
                var step = document.OptionalString(range, "fractions") switch
                {
                    null => Number("step", 1),
                    "halves" => 0.5,
                    "tenths" => 0.1,
                    var other => throw document.Error(rangeNode, $"range fractions '{other}' of list '{name}' is not halves or tenths"),
                };
                if (to < from || step <= 0)
                {
                    throw document.Error(rangeNode, $"range of list '{name}' is empty ({from} to {to} step {step})");
                }

                return new RangeList(name, from, to, step, Number("multiplier", 1));
            }

            var valuesNode = YamlFile.Child(node, "values") ?? throw document.Error(node, $"list '{name}' needs values, range or wildcard");
            var values = new List<ListValue>();
            foreach (var item in document.Sequence(valuesNode, $"values of list '{name}'").Children)
            {
                if (item is YamlScalarNode scalar)
                {
                    var text = document.Scalar(scalar, "a value");
                    values.Add(new ListValue(ParseTemplate(document, item, text), text, text, new Dictionary<string, string>()));
                    continue;
                }

                var entry = document.Mapping(item, $"a value of list '{name}'");
                var spoken = document.RequiredString(entry, "in", $"a value of list '{name}'");
                var output = YamlFile.Child(entry, "out") is { } outNode ? ScalarValue(document, outNode) : spoken;
                var context = YamlFile.Child(entry, "context") is { } contextNode
                    ? document.Mapping(contextNode, "context").Children.ToDictionary(kv => document.Scalar(kv.Key, "a context key"), kv => document.Scalar(kv.Value, "a context value"), StringComparer.Ordinal)
                    : new Dictionary<string, string>(StringComparer.Ordinal);
                values.Add(new ListValue(ParseTemplate(document, item, spoken), spoken, output, context));
            }

            return new ValuesList(name, values);
        }

        private static object ScalarValue(YamlFile document, YamlNode node)
        {
            var scalar = node as YamlScalarNode ?? throw document.Error(node, "expected a single value");
            var text = scalar.Value ?? string.Empty;
            if (scalar.Style == ScalarStyle.Plain && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }

            return text;
        }

        private static TemplateNode ParseTemplate(YamlFile document, YamlNode node, string text)
        {
            try
            {
                return TemplateParser.Parse(text);
            }
            catch (TemplateSyntaxException e)
            {
                throw document.Error(node, e.Message);
            }
        }

        public IntentSet Finish()
        {
            if (_data.Count == 0)
            {
                throw new ConfigurationFileException($"{string.Join(", ", _files)}: no intents defined");
            }

            // Every list and rule a sentence names must exist (with its block's own rules inlined);
            // rules must not refer to themselves. A file-level rule is checked where it is used, as a
            // rule may name one that only some data blocks define.
            for (var i = 0; i < _data.Count; i++)
            {
                var data = _data[i];
                var local = _localRules[i];
                var sentences = new List<(TemplateNode, string, SourceLocation)>(data.Sentences.Count);
                foreach (var (template, text, where) in data.Sentences)
                {
                    var inlined = local.Count == 0 ? template : Inline(template, local, where, []);
                    CheckReferences(inlined, where, [data.Intent]);
                    sentences.Add((inlined, text, where));
                }

                _data[i] = data with { Sentences = sentences };
            }

            return new IntentSet(_language ?? "en", _data, _rules, _lists, _skipWords, _responses, _files);
        }

        /// <summary>The template with the block's own rules, and the file-level rules that name them, written out in place.</summary>
        private TemplateNode Inline(TemplateNode node, Dictionary<string, TemplateNode> local, SourceLocation where, List<string> stack)
        {
            switch (node)
            {
                case RuleNode rule:
                    var body = local.TryGetValue(rule.Name, out var own) ? own
                        : _rules.TryGetValue(rule.Name, out var global) && Names(global.Node, local, []) ? global.Node : null;
                    if (body is null)
                    {
                        return node;
                    }

                    if (stack.Contains(rule.Name))
                    {
                        throw new ConfigurationFileException($"{where}: expansion rule <{rule.Name}> refers to itself");
                    }

                    stack.Add(rule.Name);
                    var inlined = Inline(body, local, where, stack);
                    stack.RemoveAt(stack.Count - 1);
                    return inlined;
                case SequenceNode sequence:
                    return new SequenceNode([.. sequence.Items.Select(i => Inline(i, local, where, stack))]);
                case AlternativeNode alternative:
                    return new AlternativeNode([.. alternative.Options.Select(o => Inline(o, local, where, stack))]);
                case PermutationNode permutation:
                    return new PermutationNode([.. permutation.Items.Select(i => Inline(i, local, where, stack))]);
                default:
                    return node;
            }
        }

        /// <summary>Whether a template names one of the block's own rules, directly or through file-level rules.</summary>
        private bool Names(TemplateNode node, Dictionary<string, TemplateNode> local, HashSet<string> seen) => node switch
        {
            RuleNode rule => local.ContainsKey(rule.Name) || (seen.Add(rule.Name) && _rules.TryGetValue(rule.Name, out var global) && Names(global.Node, local, seen)),
            SequenceNode sequence => sequence.Items.Any(i => Names(i, local, seen)),
            AlternativeNode alternative => alternative.Options.Any(o => Names(o, local, seen)),
            PermutationNode permutation => permutation.Items.Any(i => Names(i, local, seen)),
            _ => false,
        };

        private void CheckReferences(TemplateNode node, SourceLocation where, List<string> ruleStack)
        {
            switch (node)
            {
                case ListNode list when !_lists.ContainsKey(list.ListName) && !RegistryLists.Contains(list.ListName):
                    throw new ConfigurationFileException($"{where}: {{{list.ListName}}} names a list that is not defined (lists: {string.Join(", ", _lists.Keys.Concat(RegistryLists))})");
                case RuleNode rule:
                    if (!_rules.TryGetValue(rule.Name, out var body))
                    {
                        throw new ConfigurationFileException($"{where}: <{rule.Name}> names an expansion rule that is not defined");
                    }

                    if (ruleStack.Contains(rule.Name))
                    {
                        throw new ConfigurationFileException($"{where}: expansion rule <{rule.Name}> refers to itself");
                    }

                    ruleStack.Add(rule.Name);
                    CheckReferences(body.Node, where, ruleStack);
                    ruleStack.RemoveAt(ruleStack.Count - 1);
                    break;
                case SequenceNode sequence:
                    sequence.Items.ToList().ForEach(i => CheckReferences(i, where, ruleStack));
                    break;
                case AlternativeNode alternative:
                    alternative.Options.ToList().ForEach(o => CheckReferences(o, where, ruleStack));
                    break;
                case PermutationNode permutation:
                    permutation.Items.ToList().ForEach(i => CheckReferences(i, where, ruleStack));
                    break;
            }
        }
    }
}
