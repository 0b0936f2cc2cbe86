using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Intents;

/// <summary>The stage after the templates: the closest template sentence, or nothing.</summary>
public sealed class FuzzyMatcherTests
{
    private static readonly DeviceRegistry s_home = DevicesFile.Parse("home.yaml", """
        areas:
          - { id: kitchen, name: Kitchen }
          - { id: bedroom, name: Bedroom }
        entities:
          - { id: light.kitchen, name: Kitchen light, area: kitchen }
          - { id: light.bed, name: Bed lamp, area: bedroom }
          - { id: switch.kettle, name: Kettle, area: kitchen }
        """);

    private static readonly IntentSet s_intents = IntentSet.Parse("test.yaml", """
        language: en
        intents:
          HassTurnOn:
            data:
              - sentences: ["(turn|switch) on [the] {name}", "{name} on"]
          HassTurnOff:
            data:
              - sentences: ["(turn|switch) off [the] {name}", "{name} off"]
          HassGetState:
            data:
              - sentences: ["is [the] {name} on"]
          HassLightSet:
            data:
              - sentences: ["set [the] {name} [brightness] to {brightness} percent"]
                requires_context: { domain: light }
          HassMediaSearchAndPlay:
            data:
              - sentences: ["play {search_query}"]
        lists:
          brightness: { range: { from: 0, to: 100 } }
          search_query: { wildcard: true }
        """);

    private static readonly Lazy<FuzzyMatcher> s_fuzzy = new(() => new FuzzyMatcher(new TemplateMatcher(s_intents, s_home)));

    [Theory]
    [InlineData("I'd like the kitchen light on", "HassTurnOn")]
    [InlineData("the kitchen light can go off now", "HassTurnOff")]
    [InlineData("kitchen light off thanks", "HassTurnOff")]
    public void A_command_in_words_no_template_has_becomes_the_closest_templates_command(string text, string intent)
    {
        var close = s_fuzzy.Value.Match(text);

        Assert.NotNull(close);
        Assert.Equal(intent, close.Match.Data.Intent);
        Assert.Equal("Kitchen light", Assert.Single(close.Match.Captures).Value);
        Assert.InRange(close.Confidence, FuzzyMatcher.DefaultThreshold, 1.0);
    }

    [Fact]
    public void Names_and_numbers_of_the_utterance_fill_the_closest_sentence_and_are_checked_by_the_templates()
    {
        var close = s_fuzzy.Value.Match("put the bed lamp at 40 percent");

        Assert.NotNull(close);
        Assert.Equal("HassLightSet", close.Match.Data.Intent);
        Assert.Equal(["Bed lamp", 40L], close.Match.Captures.Select(c => c.Value));
        Assert.Equal("set the bed lamp to 40 percent", close.Closest);
        Assert.Null(s_fuzzy.Value.Match("put the kettle at 40 percent")); // a switch has no brightness: the template refuses it
    }

    [Theory]
    [InlineData("don't turn on the kitchen light")]
    [InlineData("never switch the kettle on")]
    [InlineData("why is the kitchen light on")]
    public void A_negation_or_a_why_is_never_made_into_a_command(string text) => Assert.Null(s_fuzzy.Value.Match(text));

    [Fact]
    public void A_question_is_not_made_into_a_command()
    {
        // Closest in words to "turn on the kitchen light", but a question.
        Assert.Null(s_fuzzy.Value.Match("did I turn on the kitchen light"));
    }

    [Theory]
    [InlineData("can I get a large light roast latte")]
    [InlineData("make me a medium roast americano with milk")]
    [InlineData("I left the kitchen light on yesterday")]
    [InlineData("the kettle is broken again")]
    [InlineData("what's the weather like tomorrow")]
    public void Speech_that_is_no_command_is_left_alone(string text) => Assert.Null(s_fuzzy.Value.Match(text));

    [Fact]
    public void Sentences_with_a_wildcard_take_no_part_because_a_wildcard_fits_anything()
    {
        Assert.Null(s_fuzzy.Value.Match("could you maybe play some jazz"));
    }

    [Fact]
    public async Task The_recognizer_asks_the_fuzzy_stage_only_when_no_template_matches()
    {
        var recognizer = IntentRecognizer.Create(s_intents, s_home);
        var withoutFuzzy = IntentRecognizer.Create(s_intents, s_home, fuzzy: false);

        var exact = await recognizer.RecognizeAsync("turn on the kitchen light");
        var close = await recognizer.RecognizeAsync("I'd like the kitchen light on");
        var none = await withoutFuzzy.RecognizeAsync("I'd like the kitchen light on");

        Assert.Equal(("template", (double?)null), (exact.Source, exact.Confidence));
        Assert.Equal(("fuzzy", "HassTurnOn", IntentStatus.Ok), (close.Source, close.Intent, close.Status));
        Assert.Equal(["light.kitchen"], close.Targets);
        Assert.NotNull(close.Confidence);
        Assert.Equal(IntentStatus.NoMatch, none.Status);
    }

    [Fact]
    public void A_matcher_for_a_reloaded_home_knows_its_new_devices()
    {
        var reloaded = DevicesFile.Parse("home.yaml", """
            entities:
              - { id: light.porch, name: Porch lamp }
            """);

        var close = s_fuzzy.Value.For(new TemplateMatcher(s_intents, reloaded)).Match("I'd like the porch lamp on");

        Assert.NotNull(close);
        Assert.Equal("Porch lamp", Assert.Single(close.Match.Captures).Value);
        Assert.Null(s_fuzzy.Value.Match("I'd like the porch lamp on")); // the first home has no porch lamp
    }

    [Fact]
    public void The_same_templates_always_give_the_same_model()
    {
        var matcher = new TemplateMatcher(IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")), s_home);

        Assert.Equal(new FuzzyMatcher(matcher).ExpansionCount, new FuzzyMatcher(matcher).ExpansionCount);
    }
}
