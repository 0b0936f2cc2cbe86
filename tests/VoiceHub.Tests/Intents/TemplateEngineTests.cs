using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Tests.Intents;

public sealed class TemplateEngineTests
{
    private static readonly DeviceRegistry s_home = DevicesFile.Parse("home.yaml", """
        areas:
          - { id: kitchen, name: Kitchen }
          - { id: bedroom, name: Bedroom }
        entities:
          - { id: light.kitchen, name: Kitchen light, area: kitchen }
          - { id: light.bed, name: Bed lamp, area: bedroom }
          - { id: light.red, name: Red lamp, area: bedroom }
          - { id: switch.kettle, name: Kettle, area: kitchen, aliases: [water boiler] }
        """);

    private static TemplateMatcher Matcher(string yaml) => new(IntentSet.Parse("test.yaml", yaml), s_home);

    private static TemplateMatch? Best(TemplateMatcher matcher, string text, Dictionary<string, string>? context = null) =>
        matcher.Match(TextNormalizer.Tokenize(text), context) is { Count: > 0 } matches ? matches[0] : null;

    [Theory]
    [InlineData("turn on the kettle")]
    [InlineData("switch on kettle")]
    [InlineData("Turn ON the Kettle!")]
    [InlineData("turn on the water boiler")]
    public void Alternatives_optionals_case_punctuation_and_aliases(string text)
    {
        var matcher = Matcher("""
            intents:
              HassTurnOn:
                data:
                  - sentences: ["(turn|switch) on [the] {name}"]
            """);

        var match = Best(matcher, text);

        Assert.NotNull(match);
        Assert.Equal("Kettle", Assert.Single(match.Captures).Value);
    }

    [Theory]
    [InlineData("set kitchen light brightness 40")]
    [InlineData("set brightness 40 kitchen light")]
    public void Permutations_match_their_parts_in_any_order(string text)
    {
        var matcher = Matcher("""
            intents:
              HassLightSet:
                data:
                  - sentences: ["set ({name};brightness {brightness})"]
            lists:
              brightness: { range: { from: 0, to: 100 } }
            """);

        var match = Best(matcher, text);

        Assert.NotNull(match);
        Assert.Equal(40L, match.Captures.Single(c => c.Slot == "brightness").Value);
    }

    [Theory]
    [InlineData("fifty percent", 50L)]
    [InlineData("twenty one percent", 21L)]
    [InlineData("one hundred percent", 100L)]
    [InlineData("a hundred percent", 100L)]
    [InlineData("7 percent", 7L)]
    [InlineData("twenty percent", 20L)]
    public void Number_words_fill_range_slots(string spoken, long expected)
    {
        var matcher = Matcher("""
            intents:
              Dim:
                data:
                  - sentences: ["dim to {brightness} percent"]
            lists:
              brightness: { range: { from: 0, to: 100 } }
            """);

        Assert.Equal(expected, Best(matcher, "dim to " + spoken)!.Captures[0].Value);
    }

    [Fact]
    public void Range_steps_and_multipliers_are_honoured()
    {
        var matcher = Matcher("""
            intents:
              Temp:
                data:
                  - sentences: ["set {temperature} degrees"]
              Volume:
                data:
                  - sentences: ["volume {volume}"]
            lists:
              temperature: { range: { from: 10, to: 30, step: 0.5 } }
              volume: { range: { from: 0, to: 10, multiplier: 10 } }
            """);

        Assert.Equal(21.5, Best(matcher, "set 21.5 degrees")!.Captures[0].Value);
        Assert.Null(Best(matcher, "set 21.3 degrees"));
        Assert.Null(Best(matcher, "set 31 degrees"));
        Assert.Equal(70L, Best(matcher, "volume seven")!.Captures[0].Value);
    }

    [Fact]
    public void List_values_map_what_is_said_to_their_out_value()
    {
        var matcher = Matcher("""
            intents:
              Color:
                data:
                  - sentences: ["make it {color}"]
            lists:
              color:
                values:
                  - red
                  - { in: "(sky blue|azure)", out: blue }
            """);

        Assert.Equal("blue", Best(matcher, "make it azure")!.Captures[0].Value);
        Assert.Equal("blue", Best(matcher, "make it sky blue")!.Captures[0].Value);
        Assert.Equal("red", Best(matcher, "make it red")!.Captures[0].Value);
    }

    [Fact]
    public void Wildcards_capture_free_text_up_to_the_literal_that_follows()
    {
        var matcher = Matcher("""
            intents:
              Timer:
                data:
                  - sentences: ["start a {timer_name} timer"]
            lists:
              timer_name: { wildcard: true }
            """);

        var match = Best(matcher, "start a soft boiled egg timer");

        Assert.Equal("soft boiled egg", match!.Captures[0].Value);
    }

    [Fact]
    public void Expansion_rules_and_skip_words()
    {
        var matcher = Matcher("""
            skip_words: [please, "could you"]
            expansion_rules:
              turn_on: "(turn|switch) on"
              the: "[the|my]"
            intents:
              HassTurnOn:
                data:
                  - sentences: ["<turn_on> <the> {name}"]
            """);

        Assert.NotNull(Best(matcher, "could you switch on my kettle please"));
    }

    [Fact]
    public void A_name_heard_with_a_slip_is_matched_only_in_the_second_pass_and_scored_lower()
    {
        var matcher = Matcher("""
            intents:
              HassTurnOn:
                data:
                  - sentences: ["turn on [the] {name}"]
            """);

        var slip = Best(matcher, "turn on the kitchen lite");

        Assert.Equal("Kitchen light", slip!.Captures[0].Value);
        Assert.Equal(0, slip.FuzzyEdits); // "lite" and "light" sound the same
        Assert.Equal("Kitchen light", Best(matcher, "turn on the kitchn light")!.Captures[0].Value);
        Assert.Null(Best(matcher, "turn on the garden hose"));
    }

    [Fact]
    public void Two_names_about_as_close_to_what_was_heard_are_both_reported_never_one_guessed()
    {
        var matcher = Matcher("""
            intents:
              HassTurnOn:
                data:
                  - sentences: ["turn on [the] {name}"]
            """);

        var match = Best(matcher, "turn on the ted lamp"); // one letter from "bed lamp" and from "red lamp"

        Assert.NotNull(match);
        Assert.NotNull(match.Captures[0].List!.CloseAlternatives);
        var recognizer = IntentRecognizer.Create(IntentSet.Parse("t.yaml", "intents:\n  HassTurnOn:\n    data:\n      - sentences: [\"turn on [the] {name}\"]"), s_home);
        var result = recognizer.RecognizeWithTemplates("turn on the ted lamp", new Dictionary<string, string>())!;
        Assert.Equal(IntentStatus.Clarify, result.Status);
        Assert.Empty(result.Targets);
        Assert.Contains("the bed lamp", result.Response, StringComparison.Ordinal);
        Assert.Contains("the red lamp", result.Response, StringComparison.Ordinal);
    }

    [Fact]
    public void Requires_context_keeps_only_entities_of_the_required_domain()
    {
        var matcher = Matcher("""
            intents:
              HassLightSet:
                data:
                  - sentences: ["dim [the] {name}"]
                    requires_context: { domain: light }
            """);

        Assert.NotNull(Best(matcher, "dim the bed lamp"));
        Assert.Null(Best(matcher, "dim the kettle"));
    }

    [Theory]
    [InlineData("(turn on", "missing ')'")]
    [InlineData("turn on [the {name}", "missing ']'")]
    [InlineData("turn on {name", "missing '}'")]
    [InlineData("turn on the light)", "unexpected ')' at column 18")]
    [InlineData("turn on {}", "bad slot '{}'")]
    [InlineData("turn (on;off) [a;b]", "';' (permutation) outside parentheses")]
    public void Template_syntax_errors_say_what_is_wrong(string template, string message)
    {
        var error = Assert.Throws<TemplateSyntaxException>(() => TemplateParser.Parse(template));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
