using VoiceHub.Core.Devices;

namespace VoiceHub.Core.Intents.Templates;

/// <summary>A template that does not parse; the loader adds the file and line.</summary>
public sealed class TemplateSyntaxException(string message) : Exception(message);

/// <summary>A node of a parsed sentence template.</summary>
public abstract record TemplateNode;

/// <summary>Literal words, already normalized.</summary>
public sealed record WordsNode(IReadOnlyList<string> Words) : TemplateNode;

/// <summary>Parts that must all appear, in order.</summary>
public sealed record SequenceNode(IReadOnlyList<TemplateNode> Items) : TemplateNode;

/// <summary>Exactly one of the options (an optional part is an alternative with an empty option).</summary>
public sealed record AlternativeNode(IReadOnlyList<TemplateNode> Options) : TemplateNode;

/// <summary>The items in any order: <c>(a;b;c)</c>.</summary>
public sealed record PermutationNode(IReadOnlyList<TemplateNode> Items) : TemplateNode;

/// <summary>A slot filled from a list: <c>{list}</c> or <c>{list:slot}</c>.</summary>
public sealed record ListNode(string ListName, string SlotName) : TemplateNode;

/// <summary>An expansion rule reference: <c>&lt;rule&gt;</c>.</summary>
public sealed record RuleNode(string Name) : TemplateNode;

/// <summary>
/// Parses Home Assistant (hassil) sentence templates: <c>(a|b)</c> alternatives, <c>[x]</c>
/// optional parts, <c>{list}</c> and <c>{list:slot}</c> slots, <c>&lt;rule&gt;</c> expansion rules,
/// <c>(a;b;c)</c> permutations, and <c>|</c> alternatives at the top level.
/// </summary>
public static class TemplateParser
{
    public static TemplateNode Parse(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var position = 0;
        var node = ParseAlternatives(template, ref position, closing: null);
        if (position < template.Length)
        {
            throw new TemplateSyntaxException($"unexpected '{template[position]}' at column {position + 1} of \"{template}\"");
        }

        return node;
    }

    private static TemplateNode ParseAlternatives(string text, ref int position, char? closing)
    {
        var options = new List<TemplateNode>();
        var separator = '\0';
        while (true)
        {
            options.Add(ParseSequence(text, ref position));
            if (position >= text.Length)
            {
                if (closing is not null)
                {
                    throw new TemplateSyntaxException($"missing '{closing}' in \"{text}\"");
                }

                break;
            }

            var c = text[position];
            if (c == closing)
            {
                break;
            }

            if (c is '|' or ';')
            {
                if (separator != '\0' && separator != c)
                {
                    throw new TemplateSyntaxException($"'|' and ';' mixed in one group at column {position + 1} of \"{text}\"");
                }

                if (c == ';' && closing != ')')
                {
                    throw new TemplateSyntaxException($"';' (permutation) outside parentheses at column {position + 1} of \"{text}\"");
                }

                separator = c;
                position++;
                continue;
            }

            throw new TemplateSyntaxException($"unexpected '{c}' at column {position + 1} of \"{text}\"");
        }

        if (options.Count == 1)
        {
            return options[0];
        }

        return separator == ';' ? new PermutationNode(options) : new AlternativeNode(options);
    }

    private static SequenceNode ParseSequence(string text, ref int position)
    {
        var items = new List<TemplateNode>();
        var literal = new System.Text.StringBuilder();

        void FlushLiteral()
        {
            if (literal.Length == 0)
            {
                return;
            }

            var words = TextNormalizer.Tokenize(literal.ToString());
            if (words.Length > 0)
            {
                items.Add(new WordsNode(words));
            }

            literal.Clear();
        }

        while (position < text.Length)
        {
            var c = text[position];
            switch (c)
            {
                case '(' or '[':
                    // A group of plain words glued to a word ("light[s]", "switch[es]", "name['s]") makes
                    // whole words, as hassil's character-level matching reads it: (light|lights).
                    var prefix = GluedWordBefore(literal);
                    FlushLiteral();
                    var groupStart = ++position;
                    var group = ParseAlternatives(text, ref position, c == '(' ? ')' : ']');
                    var raw = text[groupStart..position];
                    position++;
                    var suffixLength = 0;
                    while (position + suffixLength < text.Length && (char.IsLetterOrDigit(text[position + suffixLength]) || text[position + suffixLength] == '\''))
                    {
                        suffixLength++;
                    }

                    if ((prefix.Length > 0 || suffixLength > 0) && raw.IndexOfAny(['(', '[', '{', '<', ';']) < 0)
                    {
                        var suffix = text.Substring(position, suffixLength);
                        position += suffixLength;
                        var options = raw.Split('|').Select(o => o.Trim()).Concat(c == '[' ? [string.Empty] : []);
                        items.Add(new AlternativeNode([.. options.Distinct(StringComparer.Ordinal).Select(o => TextNormalizer.Tokenize(prefix + o + suffix)).Select(w => w.Length == 0 ? (TemplateNode)new SequenceNode([]) : new WordsNode(w))]));
                        break;
                    }

                    if (prefix.Length > 0)
                    {
                        items.Add(new WordsNode(TextNormalizer.Tokenize(prefix)));
                    }

                    items.Add(c == '(' ? group : new AlternativeNode([group, new SequenceNode([])]));
                    break;
                case '{':
                    FlushLiteral();
                    items.Add(ParseList(text, ref position));
                    break;
                case '<':
                    FlushLiteral();
                    var end = text.IndexOf('>', position);
                    if (end < 0)
                    {
                        throw new TemplateSyntaxException($"missing '>' after column {position + 1} of \"{text}\"");
                    }

                    var rule = text[(position + 1)..end].Trim();
                    if (rule.Length == 0)
                    {
                        throw new TemplateSyntaxException($"empty rule name at column {position + 1} of \"{text}\"");
                    }

                    items.Add(new RuleNode(rule));
                    position = end + 1;
                    break;
                case ')' or ']' or '|' or ';':
                    FlushLiteral();
                    return new SequenceNode(items);
                case '}' or '>':
                    throw new TemplateSyntaxException($"unmatched '{c}' at column {position + 1} of \"{text}\"");
                default:
                    literal.Append(c);
                    position++;
                    break;
            }
        }

        FlushLiteral();
        return new SequenceNode(items);
    }

    /// <summary>Takes the word the literal ends with when nothing separates it from what follows ("light" of "turn on the light").</summary>
    private static string GluedWordBefore(System.Text.StringBuilder literal)
    {
        var start = literal.Length;
        while (start > 0 && (char.IsLetterOrDigit(literal[start - 1]) || literal[start - 1] == '\''))
        {
            start--;
        }

        var word = literal.ToString(start, literal.Length - start);
        literal.Length = start;
        return word;
    }

    private static ListNode ParseList(string text, ref int position)
    {
        var end = text.IndexOf('}', position);
        if (end < 0)
        {
            throw new TemplateSyntaxException($"missing '}}' after column {position + 1} of \"{text}\"");
        }

        var body = text[(position + 1)..end].Trim();
        position = end + 1;
        var colon = body.IndexOf(':', StringComparison.Ordinal);
        var list = (colon < 0 ? body : body[..colon]).Trim();
        var slot = (colon < 0 ? body : body[(colon + 1)..]).Trim();
        if (list.Length == 0 || slot.Length == 0 || list.Any(ch => !char.IsLetterOrDigit(ch) && ch is not '_' and not '-'))
        {
            throw new TemplateSyntaxException($"bad slot '{{{body}}}' in \"{text}\"");
        }

        return new ListNode(list, slot);
    }
}
