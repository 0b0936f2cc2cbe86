using System.Globalization;
using System.Text;

namespace VoiceHub.Native.Grammar;

/// <summary>A GBNF text that does not parse; names the line and column.</summary>
public sealed class GbnfException(string message) : Exception(message);

/// <summary>
/// A GBNF grammar (llama.cpp's grammar format), parsed in managed code. It serves three purposes:
/// checking a grammar before llama.cpp sees it, compiling it to the rule elements whisper.cpp's
/// grammar-guided decoding takes, and deciding whether a text is in the language
/// (<see cref="Matches"/>), which is how tests prove constrained output really is constrained.
/// </summary>
public sealed class GbnfGrammar
{
    private readonly List<List<List<GbnfItem>>> _rules;
    private readonly List<string> _ruleNames;

    private GbnfGrammar(string text, string root, List<List<List<GbnfItem>>> rules, List<string> ruleNames, int rootIndex)
    {
        Text = text;
        Root = root;
        _rules = rules;
        _ruleNames = ruleNames;
        RootIndex = rootIndex;
    }

    public string Text { get; }

    public string Root { get; }

    public int RootIndex { get; }

    /// <summary>Rules in index order; each is a list of alternatives, each a sequence of items.</summary>
    public IReadOnlyList<IReadOnlyList<IReadOnlyList<GbnfItem>>> Rules => _rules;

    public IReadOnlyList<string> RuleNames => _ruleNames;

    public static GbnfGrammar Parse(string text, string root = "root")
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new GbnfParser(text);
        parser.ParseAll();
        if (!parser.RuleIndex.TryGetValue(root, out var rootIndex) || parser.Rules[rootIndex] is null)
        {
            throw new GbnfException($"grammar has no rule '{root}'");
        }

        for (var i = 0; i < parser.Rules.Count; i++)
        {
            if (parser.Rules[i] is null)
            {
                throw new GbnfException($"rule '{parser.Names[i]}' is used but never defined");
            }
        }

        var rules = parser.Rules.Select(r => r!).ToList();
        var grammar = new GbnfGrammar(text, root, rules, parser.Names, rootIndex);
        grammar.RejectLeftRecursion();
        return grammar;
    }

    /// <summary>Whether the whole of <paramref name="input"/> is a sentence of this grammar.</summary>
    public bool Matches(string input) => Ends(input).Contains(CodePointCount(input));

    /// <summary>Whether <paramref name="input"/> is a sentence or the beginning of one (what a decoder stopped early may leave).</summary>
    public bool MatchesPrefix(string input)
    {
        var ends = Ends(input);
        var length = CodePointCount(input);
        return ends.Contains(length) || ends.Contains(length + 1);
    }

    private static int CodePointCount(string input) => input.EnumerateRunes().Count();

    private HashSet<int> Ends(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var codePoints = new List<int>(input.Length);
        foreach (var rune in input.EnumerateRunes())
        {
            codePoints.Add(rune.Value);
        }

        var memo = new Dictionary<(int Rule, int Start), HashSet<int>>();
        return Ends(RootIndex, 0, codePoints, memo);
    }

    private HashSet<int> Ends(int rule, int start, List<int> input, Dictionary<(int, int), HashSet<int>> memo)
    {
        if (memo.TryGetValue((rule, start), out var known))
        {
            return known;
        }

        var result = new HashSet<int>();
        memo[(rule, start)] = result; // a re-entry at the same position adds nothing (no left recursion)
        foreach (var alternative in _rules[rule])
        {
            var positions = new HashSet<int> { start };
            foreach (var item in alternative)
            {
                var next = new HashSet<int>();
                foreach (var position in positions)
                {
                    // Position Count + 1 means "the input ran out inside this derivation": a viable prefix.
                    if (position > input.Count || (position == input.Count && item.RuleReference is null))
                    {
                        next.Add(input.Count + 1);
                    }
                    else if (item.RuleReference is { } reference)
                    {
                        next.UnionWith(Ends(reference, position, input, memo));
                    }
                    else if (item.Accepts(input[position]))
                    {
                        next.Add(position + 1);
                    }
                }

                positions = next;
                if (positions.Count == 0)
                {
                    break;
                }
            }

            result.UnionWith(positions);
        }

        return result;
    }

    private void RejectLeftRecursion()
    {
        // A rule that can reach itself without consuming input loops forever in llama.cpp's sampler.
        var nullable = new bool[_rules.Count];
        for (var changed = true; changed;)
        {
            changed = false;
            for (var r = 0; r < _rules.Count; r++)
            {
                if (!nullable[r] && _rules[r].Any(alt => alt.All(i => i.RuleReference is { } x && nullable[x])))
                {
                    nullable[r] = changed = true;
                }
            }
        }

        for (var r = 0; r < _rules.Count; r++)
        {
            var seen = new HashSet<int>();
            var stack = new Stack<int>([r]);
            while (stack.Count > 0)
            {
                foreach (var alternative in _rules[stack.Pop()])
                {
                    foreach (var item in alternative)
                    {
                        if (item.RuleReference is not { } reference)
                        {
                            break;
                        }

                        if (reference == r)
                        {
                            throw new GbnfException($"rule '{_ruleNames[r]}' is left-recursive");
                        }

                        if (seen.Add(reference))
                        {
                            stack.Push(reference);
                        }

                        if (!nullable[reference])
                        {
                            break;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Rule names and bodies in GBNF, one rule per line (generated rules included).</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        for (var r = 0; r < _rules.Count; r++)
        {
            builder.Append(_ruleNames[r]).Append(" ::= ");
            builder.AppendJoin(" | ", _rules[r].Select(alt => alt.Count == 0 ? "\"\"" : string.Join(' ', alt.Select(i => i.ToGbnf(_ruleNames)))));
            builder.Append('\n');
        }

        return builder.ToString();
    }

    internal static string Escape(int codePoint) => codePoint switch
    {
        '"' => "\\\"",
        '\\' => "\\\\",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        ']' => "\\]",
        '[' => "\\[",
        '-' => "\\-",
        '^' => "\\^",
        < 0x20 => "\\x" + codePoint.ToString("X2", CultureInfo.InvariantCulture),
        _ => char.ConvertFromUtf32(codePoint),
    };
}

/// <summary>
/// One symbol of a GBNF sequence: a reference to another rule, or a character class (a literal
/// character is a class of one range).
/// </summary>
public sealed class GbnfItem
{
    private GbnfItem(int? ruleReference, IReadOnlyList<(int Low, int High)> ranges, bool negated, bool any)
    {
        RuleReference = ruleReference;
        Ranges = ranges;
        Negated = negated;
        IsAnyCharacter = any;
    }

    public int? RuleReference { get; }

    public IReadOnlyList<(int Low, int High)> Ranges { get; }

    public bool Negated { get; }

    public bool IsAnyCharacter { get; }

    public static GbnfItem Reference(int rule) => new(rule, [], false, false);

    public static GbnfItem Character(int codePoint) => new(null, [(codePoint, codePoint)], false, false);

    public static GbnfItem Class(IReadOnlyList<(int, int)> ranges, bool negated) => new(null, ranges, negated, false);

    public static GbnfItem Any() => new(null, [], false, true);

    public bool Accepts(int codePoint)
    {
        if (IsAnyCharacter)
        {
            return true;
        }

        var inside = false;
        foreach (var (low, high) in Ranges)
        {
            if (codePoint >= low && codePoint <= high)
            {
                inside = true;
                break;
            }
        }

        return inside != Negated;
    }

    internal string ToGbnf(IReadOnlyList<string> ruleNames)
    {
        if (RuleReference is { } reference)
        {
            return ruleNames[reference];
        }

        if (IsAnyCharacter)
        {
            return ".";
        }

        if (!Negated && Ranges.Count == 1 && Ranges[0].Low == Ranges[0].High)
        {
            var c = Ranges[0].Low;
            return "\"" + (c == '-' || c == '^' || c == '[' || c == ']' ? char.ConvertFromUtf32(c) : GbnfGrammar.Escape(c)) + "\"";
        }

        var builder = new StringBuilder("[");
        if (Negated)
        {
            builder.Append('^');
        }

        foreach (var (low, high) in Ranges)
        {
            builder.Append(GbnfGrammar.Escape(low));
            if (high != low)
            {
                builder.Append('-').Append(GbnfGrammar.Escape(high));
            }
        }

        return builder.Append(']').ToString();
    }
}
