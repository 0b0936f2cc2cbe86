using System.Globalization;
using VoiceHub.Core.Speech;

namespace VoiceHub.Tests.Speech;

/// <summary>The JSGF → minimal word automaton compiler the closed-set engine hands pocketsphinx.</summary>
public sealed class FsgCompilerTests
{
    [Fact]
    public void The_automaton_accepts_exactly_the_sentences_of_the_grammar()
    {
        const string jsgf = """
            #JSGF V1.0;
            grammar test;
            public <command> = <on> | set <name> to ( <number> | half ) [ percent ];
            <on> = turn ( on | off ) [ the ] <name> | <NULL> stop;
            <name> = kitchen light | lamp;
            <number> = ten | twenty;
            """;

        var sentences = Sentences(FsgCompiler.Compile(jsgf)!);

        string[] expected =
        [
            "turn on kitchen light", "turn on the kitchen light", "turn off kitchen light", "turn off the kitchen light",
            "turn on lamp", "turn on the lamp", "turn off lamp", "turn off the lamp", "stop",
            "set kitchen light to ten", "set kitchen light to ten percent", "set kitchen light to twenty", "set kitchen light to twenty percent",
            "set kitchen light to half", "set kitchen light to half percent",
            "set lamp to ten", "set lamp to ten percent", "set lamp to twenty", "set lamp to twenty percent", "set lamp to half", "set lamp to half percent",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), sentences.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Sampled_sentences_are_different_sentences_of_the_grammar_and_no_more_than_it_has()
    {
        var fsg = FsgCompiler.Compile("#JSGF V1.0;\ngrammar t;\npublic <c> = turn ( on | off ) the ( kitchen | hall ) light | stop;\n")!;

        var few = FsgCompiler.SampleSentences(fsg, 3, new Random(1));
        var all = FsgCompiler.SampleSentences(fsg, 50, new Random(2));

        Assert.Equal(3, few.Count);
        Assert.Equal(few.Count, few.Distinct().Count());
        Assert.Subset(Sentences(fsg).ToHashSet(), few.ToHashSet());
        Assert.Equal(Sentences(fsg).Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal)); // all five, each once
    }

    [Fact]
    public void A_name_list_that_ends_many_sentences_is_spelled_once()
    {
        var names = string.Join(" | ", Enumerable.Range(0, 200).Select(i => $"lamp {Words(i)}"));
        var verbs = string.Join(" | ", Enumerable.Range(0, 50).Select(i => $"verb{i} [ the ] <name>"));
        var jsgf = $"#JSGF V1.0;\ngrammar test;\npublic <command> = {verbs};\n<name> = {names};\n";

        var (states, _) = Shape(FsgCompiler.Compile(jsgf)!);

        // Inlined per reference (as pocketsphinx's own JSGF compiler does) this is over 20,000 states.
        Assert.InRange(states, 1, 50 + 2 + 200 * 2 + 10);
    }

    [Fact]
    public void Every_state_s_ways_on_are_equally_likely()
    {
        var fsg = FsgCompiler.Compile("#JSGF V1.0;\ngrammar t;\npublic <c> = a [ b | c | d ];\n")!;

        var byState = Transitions(fsg).GroupBy(t => t.From).ToDictionary(g => g.Key, g => g.Select(t => t.Probability).ToList());

        Assert.All(byState.Values, probabilities =>
        {
            Assert.Equal(1.0, probabilities.Sum(), 5);
            Assert.All(probabilities, p => Assert.Equal(probabilities[0], p, 5));
        });
        Assert.Contains(byState.Values, p => p.Count == 4); // after "a": b, c, d or the end
    }

    [Fact]
    public void A_sentence_keeps_its_closed_alternatives_when_one_needs_a_wildcard()
    {
        var intents = VoiceHub.Core.Intents.IntentSet.Parse("timer.yaml", """
            intents:
              HassStartTimer:
                data:
                  - sentences: ["start a timer for {minutes} minutes [called {timer_name:name}]", "name a timer {timer_name:name}"]
            lists:
              minutes: { range: { from: 1, to: 3 } }
              timer_name: { wildcard: true }
            """);

        var grammar = JsgfGrammarBuilder.Build(intents, VoiceHub.Core.Devices.DeviceRegistry.Empty);

        Assert.Equal(["start a timer for one minutes", "start a timer for three minutes", "start a timer for two minutes"], Sentences(FsgCompiler.Compile(grammar.Jsgf)!).Order(StringComparer.Ordinal));
        Assert.Equal(1, grammar.SkippedSentences); // "name a timer {name}" cannot be said without its wildcard
    }

    [Theory]
    [InlineData("public <c> = ( a | b )+;", "a repeat")]
    [InlineData("public <c> = a*;", "a repeat")]
    [InlineData("public <c> = /2/ a | /1/ b;", "weights")]
    [InlineData("public <c> = a <missing>;", "an undefined rule")]
    [InlineData("public <c> = a <c>;", "a recursive rule")]
    [InlineData("public <c> = a <VOID>;", "a dead end")]
    [InlineData("<c> = a;", "no public rule")]
    public void A_grammar_it_cannot_close_is_left_to_pocketsphinx(string rules, string what)
    {
        Assert.True(FsgCompiler.Compile($"#JSGF V1.0;\ngrammar t;\n{rules}\n") is null, what);
    }

    private static List<(int From, int To, double Probability, string? Word)> Transitions(string fsg) =>
        [.. fsg.Split('\n').Where(l => l.StartsWith("TRANSITION ", StringComparison.Ordinal)).Select(l => l.Split(' ')).Select(p =>
            (int.Parse(p[1], CultureInfo.InvariantCulture), int.Parse(p[2], CultureInfo.InvariantCulture), double.Parse(p[3], CultureInfo.InvariantCulture), p.Length > 4 ? p[4] : null))];

    private static (int States, int Final) Shape(string fsg)
    {
        int Value(string key) => int.Parse(fsg.Split('\n').First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);
        return (Value("NUM_STATES"), Value("FINAL_STATE"));
    }

    /// <summary>Every word sequence from the start state to the final state.</summary>
    private static List<string> Sentences(string fsg)
    {
        var start = int.Parse(fsg.Split('\n').First(l => l.StartsWith("START_STATE", StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);
        var (_, final) = Shape(fsg);
        var transitions = Transitions(fsg);
        var sentences = new List<string>();
        void Walk(int state, List<string> words)
        {
            if (state == final)
            {
                sentences.Add(string.Join(' ', words));
            }

            foreach (var t in transitions.Where(t => t.From == state))
            {
                Walk(t.To, t.Word is null ? words : [.. words, t.Word]);
            }
        }

        Walk(start, []);
        return sentences;
    }

    private static string Words(int i) => string.Join(' ', i.ToString(CultureInfo.InvariantCulture).Select(d => "d" + d));
}
