using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VoiceHub.Core.Speech;

/// <summary>
/// Compiles a closed JSGF command grammar (words, sequences, <c>( | )</c>, <c>[ ]</c>, rule
/// references, no repeats) into the smallest deterministic word automaton that accepts the same
/// sentences, written in pocketsphinx's FSG format. pocketsphinx's own JSGF compiler copies every
/// rule into every place that references it and keeps a hash table per state: the shipped English
/// intents with a hundred device names became 30,000 states and 170 MB per decoder. The minimal
/// automaton shares every common prefix and suffix (the name list at the end of most sentences is
/// spelled once): about 500 states and 12 MB, the same sentences.
/// </summary>
public static partial class FsgCompiler
{
    /// <summary>More states than this in the deterministic automaton and the grammar is left to pocketsphinx's compiler.</summary>
    public const int MaxStates = 500_000;

    /// <summary>The FSG text of the grammar's public rule, or null when it is not a closed grammar this compiler takes (repeats, weights, tags).</summary>
    public static string? Compile(string jsgf, string name = "command")
    {
        ArgumentNullException.ThrowIfNull(jsgf);
        var rules = new Dictionary<string, string>(StringComparer.Ordinal);
        string? publicRule = null;
        foreach (Match m in RuleDefinition().Matches(jsgf))
        {
            rules[m.Groups["name"].Value] = m.Groups["body"].Value;
            publicRule ??= m.Groups["public"].Success ? m.Groups["name"].Value : null;
        }

        if (publicRule is null)
        {
            return null;
        }

        var nfa = new Nfa(rules);
        var (start, final) = (nfa.NewState(), nfa.NewState());
        if (!nfa.TryBuildRule(publicRule, start, final, depth: 0))
        {
            return null;
        }

        var dfa = Determinize(nfa, start, final);
        return dfa is null ? null : Write(Minimize(dfa), name);
    }

    /// <summary>
    /// Up to <paramref name="count"/> different sentences of an FSG (as <see cref="Compile"/> writes
    /// them), each a walk from the start that takes every way on from a state as likely as the others:
    /// the grammar's kinds of command come up about equally, not in proportion to how many sentences
    /// each spells (a percentage would crowd out everything else).
    /// </summary>
    public static IReadOnlyList<string> SampleSentences(string fsg, int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(fsg);
        ArgumentNullException.ThrowIfNull(random);
        var ways = new Dictionary<int, List<(int To, string? Word)>>();
        int? start = null, final = null;
        foreach (var line in fsg.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (fields)
            {
                case ["START_STATE", var s]:
                    start = int.Parse(s, CultureInfo.InvariantCulture);
                    break;
                case ["FINAL_STATE", var f]:
                    final = int.Parse(f, CultureInfo.InvariantCulture);
                    break;
                case ["TRANSITION", var from, var to, _, ..]:
                    var state = int.Parse(from, CultureInfo.InvariantCulture);
                    if (!ways.TryGetValue(state, out var list))
                    {
                        ways[state] = list = [];
                    }

                    list.Add((int.Parse(to, CultureInfo.InvariantCulture), fields.Length > 4 ? fields[4] : null));
                    break;
            }
        }

        if (start is null || final is null)
        {
            throw new FormatException("not an FSG: no START_STATE or FINAL_STATE");
        }

        var sentences = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; attempt < count * 20 && sentences.Count < count; attempt++)
        {
            var words = new List<string>();
            var at = start.Value;
            while (at != final && ways.TryGetValue(at, out var next) && words.Count < 100)
            {
                var (to, word) = next[random.Next(next.Count)];
                if (word is not null)
                {
                    words.Add(word);
                }

                at = to;
            }

            var sentence = string.Join(' ', words);
            if (at == final && words.Count > 0 && seen.Add(sentence))
            {
                sentences.Add(sentence);
            }
        }

        return sentences;
    }

    [GeneratedRegex(@"(?<public>public\s+)?<(?<name>[^<>\s]+)>\s*=\s*(?<body>[^;]*);")]
    private static partial Regex RuleDefinition();

    [GeneratedRegex(@"<[^<>\s]+>|[()\[\]|*+/{}]|[^\s()\[\]|*+/{}<>]+")]
    private static partial Regex Token();

    /// <summary>A word automaton with empty moves, built by inlining every rule reference (Thompson's construction).</summary>
    private sealed class Nfa(Dictionary<string, string> rules)
    {
        public List<List<int>> Empty { get; } = [];

        public List<List<(string Word, int To)>> Words { get; } = [];

        public int NewState()
        {
            Empty.Add([]);
            Words.Add([]);
            return Empty.Count - 1;
        }

        public bool TryBuildRule(string rule, int from, int to, int depth)
        {
            if (depth > 64 || !rules.TryGetValue(rule, out var body))
            {
                return false; // recursive or undefined: not a closed grammar
            }

            var tokens = Token().Matches(body).Select(t => t.Value).ToList();
            var position = 0;
            return Alternatives(tokens, ref position, from, to, depth) && position == tokens.Count;
        }

        private bool Alternatives(List<string> tokens, ref int position, int from, int to, int depth)
        {
            while (true)
            {
                if (!Sequence(tokens, ref position, from, to, depth))
                {
                    return false;
                }

                if (position < tokens.Count && tokens[position] == "|")
                {
                    position++;
                    continue;
                }

                return true;
            }
        }

        private bool Sequence(List<string> tokens, ref int position, int from, int to, int depth)
        {
            var current = from;
            while (position < tokens.Count && tokens[position] is not ("|" or ")" or "]"))
            {
                var token = tokens[position++];
                var next = NewState();
                switch (token)
                {
                    case "(" or "[":
                        if (!Alternatives(tokens, ref position, current, next, depth) || position >= tokens.Count || tokens[position++] != (token == "(" ? ")" : "]"))
                        {
                            return false;
                        }

                        if (token == "[")
                        {
                            Empty[current].Add(next);
                        }

                        break;
                    case "<NULL>":
                        Empty[current].Add(next);
                        break;
                    case "<VOID>" or "*" or "+" or "/" or "{" or "}":
                        return false; // a dead end, a repeat, a weight or a tag: left to pocketsphinx
                    default:
                        if (token.StartsWith('<'))
                        {
                            if (!TryBuildRule(token[1..^1], current, next, depth + 1))
                            {
                                return false;
                            }
                        }
                        else
                        {
                            Words[current].Add((token, next));
                        }

                        break;
                }

                current = next;
            }

            Empty[current].Add(to);
            return true;
        }
    }

    private sealed record Dfa(List<Dictionary<string, int>> Arcs, List<bool> Accepting)
    {
        public int Start { get; init; }
    }

    /// <summary>Subset construction; null when the automaton would grow past <see cref="MaxStates"/>.</summary>
    private static Dfa? Determinize(Nfa nfa, int start, int final)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var sets = new List<int[]>();
        var arcs = new List<Dictionary<string, int>>();
        var accepting = new List<bool>();
        int Intern(IEnumerable<int> states)
        {
            var closure = Closure(nfa, states);
            var key = string.Join(',', closure);
            if (!ids.TryGetValue(key, out var id))
            {
                id = sets.Count;
                ids[key] = id;
                sets.Add(closure);
                arcs.Add(new Dictionary<string, int>(StringComparer.Ordinal));
                accepting.Add(Array.BinarySearch(closure, final) >= 0);
            }

            return id;
        }

        Intern([start]);
        for (var i = 0; i < sets.Count; i++)
        {
            if (sets.Count > MaxStates)
            {
                return null;
            }

            var targets = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            foreach (var state in sets[i])
            {
                foreach (var (word, to) in nfa.Words[state])
                {
                    if (!targets.TryGetValue(word, out var list))
                    {
                        targets[word] = list = [];
                    }

                    list.Add(to);
                }
            }

            foreach (var (word, to) in targets)
            {
                arcs[i][word] = Intern(to);
            }
        }

        return new Dfa(arcs, accepting);
    }

    private static int[] Closure(Nfa nfa, IEnumerable<int> states)
    {
        var seen = new HashSet<int>(states);
        var stack = new Stack<int>(seen);
        while (stack.TryPop(out var state))
        {
            foreach (var next in nfa.Empty[state])
            {
                if (seen.Add(next))
                {
                    stack.Push(next);
                }
            }
        }

        var closure = seen.ToArray();
        Array.Sort(closure);
        return closure;
    }

    /// <summary>Merges states with the same future (an acyclic automaton: by signature, leaves first).</summary>
    private static Dfa Minimize(Dfa dfa)
    {
        var canonical = new int[dfa.Arcs.Count];
        Array.Fill(canonical, -1);
        var signatures = new Dictionary<string, int>(StringComparer.Ordinal);
        var arcs = new List<Dictionary<string, int>>();
        var accepting = new List<bool>();

        // Post-order without recursion: a state is named once all its successors are.
        var stack = new Stack<(int State, bool Expanded)>();
        stack.Push((0, false));
        while (stack.TryPop(out var item))
        {
            if (canonical[item.State] >= 0)
            {
                continue;
            }

            if (!item.Expanded)
            {
                stack.Push((item.State, true));
                foreach (var next in dfa.Arcs[item.State].Values.Where(n => canonical[n] < 0))
                {
                    stack.Push((next, false));
                }

                continue;
            }

            var key = new StringBuilder(dfa.Accepting[item.State] ? "F" : "N");
            foreach (var (word, next) in dfa.Arcs[item.State].OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                key.Append(CultureInfo.InvariantCulture, $" {word}>{canonical[next]}");
            }

            if (!signatures.TryGetValue(key.ToString(), out var id))
            {
                id = arcs.Count;
                signatures[key.ToString()] = id;
                arcs.Add(dfa.Arcs[item.State].ToDictionary(a => a.Key, a => canonical[a.Value], StringComparer.Ordinal));
                accepting.Add(dfa.Accepting[item.State]);
            }

            canonical[item.State] = id;
        }

        return new Dfa(arcs, accepting) { Start = canonical[0] };
    }

    private static string Write(Dfa dfa, string name)
    {
        // One final state: the state that accepts and goes nowhere, or a new one reached by empty moves.
        var final = Enumerable.Range(0, dfa.Arcs.Count).FirstOrDefault(s => dfa.Accepting[s] && dfa.Arcs[s].Count == 0, -1);
        var states = final < 0 ? dfa.Arcs.Count + 1 : dfa.Arcs.Count;
        final = final < 0 ? dfa.Arcs.Count : final;
        var fsg = new StringBuilder();
        fsg.Append(CultureInfo.InvariantCulture, $"FSG_BEGIN {name}\nNUM_STATES {states}\nSTART_STATE {dfa.Start}\nFINAL_STATE {final}\n");
        for (var s = 0; s < dfa.Arcs.Count; s++)
        {
            var ending = dfa.Accepting[s] && s != final;
            var outgoing = dfa.Arcs[s].Count + (ending ? 1 : 0);
            if (outgoing == 0)
            {
                continue;
            }

            // Every way on from a state equally likely (weighed by the decoder's -lw).
            var probability = (1.0 / outgoing).ToString("0.######", CultureInfo.InvariantCulture);
            foreach (var (word, next) in dfa.Arcs[s].OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                fsg.Append(CultureInfo.InvariantCulture, $"TRANSITION {s} {next} {probability} {word}\n");
            }

            if (ending)
            {
                fsg.Append(CultureInfo.InvariantCulture, $"TRANSITION {s} {final} {probability}\n");
            }
        }

        return fsg.Append("FSG_END\n").ToString();
    }
}
