using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Templates;

namespace VoiceHub.Tests.Intents;

/// <summary>
/// Home Assistant's intent files as hassil reads them, each feature on a small file of our own:
/// data-block rules, words glued to groups, fractional ranges, wildcards as written, and the
/// test-fixture and test-file shapes of the home-assistant/intents repository.
/// </summary>
public sealed class HassilFormatTests
{
    private static readonly DeviceRegistry s_home = DevicesFile.Parse("home.yaml", """
        areas:
          - { id: kitchen, name: Kitchen }
        entities:
          - { id: light.kitchen, name: Kitchen light, area: kitchen }
          - { id: switch.kettle, name: Kettle, area: kitchen }
          - { id: climate.hall, name: Hall thermostat }
        """);

    private static TemplateMatch? Best(string yaml, string text, Dictionary<string, string>? context = null) =>
        new TemplateMatcher(IntentSet.Parse("test.yaml", yaml), s_home).Match(text, context) is { Count: > 0 } matches ? matches[0] : null;

    [Theory]
    [InlineData("are the lights on", true)]
    [InlineData("are the light on", true)]
    [InlineData("are the switches on", true)]
    [InlineData("are the switch on", true)]
    [InlineData("are the switchs on", false)]
    [InlineData("is the kettle's light on", true)]
    [InlineData("unlock the kettle", true)]
    [InlineData("lock the kettle", true)]
    public void A_group_glued_to_a_word_makes_whole_words(string text, bool matches)
    {
        const string yaml = """
            intents:
              HassGetState:
                data:
                  - sentences: ["(is|are) the (light[s]|switch[es]) on", "is the kettle['s] light on"]
              HassTurnOff:
                data:
                  - sentences: ["[un]lock the {name}"]
            """;

        Assert.Equal(matches, Best(yaml, text) is not null);
    }

    [Fact]
    public void A_data_block_s_own_rules_serve_its_sentences_and_the_file_rules_that_name_them()
    {
        const string yaml = """
            intents:
              HassGetState:
                data:
                  - sentences: ["<what_is_the_class_of> {name}"]
                    expansion_rules:
                      class: "(temperature|humidity)"
                  - sentences: ["<what_is_the_class_of> the {name}"]
                    expansion_rules:
                      class: "battery"
            expansion_rules:
              what_is_the_class_of: "what is the <class> of"
            """;

        Assert.Equal("HassGetState", Best(yaml, "what is the humidity of kettle")?.Data.Intent);
        Assert.Equal("HassGetState", Best(yaml, "what is the battery of the kettle")?.Data.Intent);
        Assert.Null(Best(yaml, "what is the battery of kettle")); // the first block's class has no battery
    }

    [Fact]
    public void A_rule_no_block_defines_is_an_error_naming_the_sentence_at_load()
    {
        const string yaml = """
            intents:
              HassGetState:
                data:
                  - sentences: ["what is the <class> of {name}"]
            """;

        var error = Assert.Throws<ConfigurationFileException>(() => IntentSet.Parse("test.yaml", yaml));

        Assert.Equal("test.yaml: line 4: <class> names an expansion rule that is not defined", error.Message);
    }

    [Theory]
    [InlineData("set the hall thermostat to 20.5 degrees", 20.5)]
    [InlineData("set the hall thermostat to twenty point five degrees", 20.5)]
    [InlineData("set the hall thermostat to 21 degrees", 21.0)]
    public void A_range_with_halves_takes_half_degrees_in_digits_and_words(string text, double expected)
    {
        const string yaml = """
            intents:
              HassClimateSetTemperature:
                data:
                  - sentences: ["set [the] {name} to {temperature} degree[s]"]
                    requires_context: { domain: climate }
            lists:
              temperature: { range: { type: temperature, from: 0, to: 100, fractions: halves } }
            """;

        var match = Best(yaml, text);

        Assert.NotNull(match);
        Assert.Equal(expected, Convert.ToDouble(match.Captures.Single(c => c.Slot == "temperature").Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Null(Best(yaml, "set the hall thermostat to 20.3 degrees"));
    }

    [Fact]
    public void A_wildcard_captures_the_words_as_they_were_written()
    {
        const string yaml = """
            intents:
              HassMediaSearchAndPlay:
                data:
                  - sentences: ["play {search_query} on [the] {name}"]
            lists:
              search_query: { wildcard: true }
            """;

        var match = Best(yaml, "Play The Office on the kettle");

        Assert.Equal("The Office", match?.Captures.Single(c => c.Slot == "search_query").Value);
    }

    [Fact]
    public void Home_Assistant_s_test_fixtures_and_test_files_are_read_and_judged_on_the_template_match()
    {
        var folder = Directory.CreateTempSubdirectory("voicehub-hassil-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "_fixtures.yaml"), """
                language: "en"
                areas:
                  - { name: "Living Room", id: "living_room_id" }
                entities:
                  - name: "Phone"
                    id: "binary_sensor.phone_battery"
                    state: { in: "normal", out: "off" }
                  - { name: "TV", id: "media_player.tv", area: "living_room_id" }
                timers:
                  - { name: "pizza", start_minutes: 30 }
                media:
                  - title: "The Office"
                """);
            File.WriteAllText(Path.Combine(folder, "pause.yaml"), """
                language: en
                tests:
                  - sentences: ["pause"]
                    intent:
                      name: HassMediaPause
                      slots: { area: "Living Room" }
                      context: { area: Living Room }
                    response: "Paused"
                  - sentences: ["pause the TV"]
                    intent:
                      name: HassMediaPause
                      slots:
                        name: ["TV ", "TV"]
                """);
            var intents = IntentSet.Parse("pause.yaml", """
                intents:
                  HassMediaPause:
                    data:
                      - sentences: ["pause"]
                        requires_context: { area: { slot: true } }
                      - sentences: ["pause [the] {name}"]
                """);
            var registry = DevicesFile.Load(IntentTests.FixturesFor(folder));
            var matcher = new TemplateMatcher(intents, registry);

            var cases = IntentTests.Load(folder);
            var failures = cases.Select(c => IntentTests.CheckMatch(c, matcher.Match(c.Sentence, c.Context) is { Count: > 0 } m ? m[0] : null)).ToList();

            Assert.Equal("off", registry.Entities.Single(e => e.Id == "binary_sensor.phone_battery").State);
            Assert.Equal(2, cases.Count);
            Assert.Equal("Living Room", cases[0].Context["area"]);
            Assert.All(failures, Assert.Null);
            Assert.Equal("slot name = Kettle, expected TV  or TV", IntentTests.CheckMatch(cases[1], new TemplateMatcher(intents, s_home).Match("pause the kettle")[0]));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_checkout_of_home_assistant_intents_loads_the_sentences_of_its_language()
    {
        var checkout = Directory.CreateTempSubdirectory("voicehub-checkout-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(checkout, "sentences", "en"));
            Directory.CreateDirectory(Path.Combine(checkout, "sentences", "de"));
            File.WriteAllText(Path.Combine(checkout, "sentences", "en", "on.yaml"), "language: en\nintents:\n  HassTurnOn:\n    data:\n      - sentences: [\"turn on {name}\"]\n");
            File.WriteAllText(Path.Combine(checkout, "sentences", "de", "on.yaml"), "language: de\nintents:\n  HassTurnOn:\n    data:\n      - sentences: [\"schalte {name} ein\"]\n");

            Assert.Equal("en", IntentSet.Load(checkout).Language);
            Assert.Equal("de", IntentSet.Load(checkout, "de").Language);
            var error = Assert.Throws<ConfigurationFileException>(() => IntentSet.Load(checkout, "fr"));
            Assert.Contains("no 'fr' sentences in this home-assistant/intents checkout (it has: de, en)", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(checkout, recursive: true);
        }
    }
}
