using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Speech;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Speech;

/// <summary>
/// The closed-set engine with the real pocketsphinx English model: real speech of the coffee
/// domain, synthetic speech of home commands, and audio that is no command.
/// </summary>
[Trait("needs", "native")]
public sealed class ClosedSetEngineTests
{
    private const string ModelDirectory = "/usr/share/pocketsphinx/model/en-us";
    private static readonly Lazy<IntentSet> s_coffee = new(() => IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "coffee")));
    private static readonly Lazy<IntentSet> s_home = new(() => IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")));

    private static DeviceRegistry Fixtures() => DevicesFile.Load(Path.Combine(TestPaths.Root, "intents", "tests", "en", "_fixtures.yaml"));

    [Fact]
    public async Task A_real_spoken_coffee_order_becomes_the_labelled_intent_and_slots()
    {
        using var engine = new PocketsphinxCommandEngine(ModelDirectory, new PocketsphinxEngineOptions(), s_coffee.Value, DeviceRegistry.Empty);
        var recognizer = IntentRecognizer.Create(s_coffee.Value, DeviceRegistry.Empty);

        var transcript = await engine.TranscribeAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav")));
        var result = recognizer.RecognizeWithTemplates(transcript.Text, new Dictionary<string, string>())!;

        // Labelled in the benchmark: orderDrink, coffeeDrink "iced mocha", roast "light roast", sugarAmount "some sugar".
        Assert.False(transcript.IsRejected, transcript.Rejection);
        var (accepted, detail) = SpeechEvaluation.Score(new LabelledUtterance("coffee-iced-mocha.wav", "orderDrink", new Dictionary<string, string> { ["coffeeDrink"] = "iced mocha", ["roast"] = "light roast", ["sugarAmount"] = "some sugar" }), result);
        Assert.True(accepted, $"{transcript.Text}: {detail}");
    }

    [Fact]
    public async Task A_home_command_is_heard_as_a_sentence_of_the_shipped_templates()
    {
        using var engine = new PocketsphinxCommandEngine(ModelDirectory, new PocketsphinxEngineOptions(), s_home.Value, Fixtures());
        var recognizer = IntentRecognizer.Create(s_home.Value, Fixtures());

        var transcript = await engine.TranscribeAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav")));
        var result = recognizer.RecognizeWithTemplates(transcript.Text, new Dictionary<string, string>());

        // The synthetic voice swallows "the"; heard or not, the sentence is the same command.
        Assert.Contains(transcript.Text, new[] { "turn on the kitchen light", "turn on kitchen light" });
        Assert.Equal("HassTurnOn", result!.Intent);
        Assert.Equal(["light.kitchen_ceiling"], result.Targets);
    }

    [Theory]
    [InlineData("silence")]
    [InlineData("white noise")]
    [InlineData("a tone")]
    [InlineData("speech that is no command")]
    [InlineData("kitchen noise")] // before the score was taken over the words alone, this was "latte"
    public async Task Audio_that_is_no_command_is_rejected_not_turned_into_one(string kind)
    {
        using var engine = new PocketsphinxCommandEngine(ModelDirectory, new PocketsphinxEngineOptions(), s_coffee.Value, DeviceRegistry.Empty);
        var random = new Random(3);
        var samples = kind switch
        {
            "silence" => new float[16000 * 2],
            "white noise" => [.. Enumerable.Range(0, 32000).Select(_ => (random.NextSingle() - 0.5f) * 0.3f)],
            "a tone" => [.. Enumerable.Range(0, 32000).Select(i => MathF.Sin(i * 2 * MathF.PI * 440 / 16000) * 0.3f)],
            "kitchen noise" => VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("kitchen-noise.wav")),
            _ => VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("not-a-command.wav")),
        };

        var transcript = await engine.TranscribeAsync(samples);

        Assert.True(transcript.IsRejected, $"accepted \"{transcript.Text}\" (score {transcript.Score})");
    }

    [Fact]
    public void Words_missing_from_the_dictionary_get_a_pronunciation_from_espeak()
    {
        var registry = DevicesFile.Parse("d.yaml", "entities:\n  - { id: light.zigbee_hub, name: Zigbee strip }\n");

        using var engine = new PocketsphinxCommandEngine(ModelDirectory, new PocketsphinxEngineOptions(), s_home.Value, registry);

        Assert.Equal("Z IH G B IY", engine.AddedWords["zigbee"]);
        Assert.Contains("zigbee strip", engine.Grammar.Jsgf, StringComparison.Ordinal);
    }

    [Fact]
    public void The_grammar_spells_numbers_and_leaves_out_sentences_with_wildcards()
    {
        var grammar = JsgfGrammarBuilder.Build(s_home.Value, DevicesFile.Parse("d.yaml", "entities:\n  - { id: light.lamp_2, name: Lamp 2 }\n"));

        Assert.Contains("fifty", grammar.Words);
        Assert.Contains("one hundred", grammar.Jsgf, StringComparison.Ordinal);
        Assert.Contains("lamp two", grammar.Jsgf, StringComparison.Ordinal);
        Assert.DoesNotContain("2", grammar.Words);
        Assert.True(grammar.SkippedSentences > 0, "the timer-name sentences have a wildcard");
    }

    [Fact]
    public void An_acoustic_adaptation_made_for_another_model_is_refused_naming_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"voicehub-{Guid.NewGuid():N}.mllr");
        File.WriteAllText(path, "1\n1\n2\n1 0\n0 1\n0 0\n1 1\n"); // one stream of two coefficients: the model has three of 13
        try
        {
            var error = Assert.Throws<VoiceHub.Native.ModelFormatException>(() => new PocketsphinxCommandEngine(ModelDirectory, new PocketsphinxEngineOptions { AcousticAdaptation = path }, s_coffee.Value, DeviceRegistry.Empty));
            Assert.Contains($"{path}: the MLLR transform is for 1 feature streams, the acoustic model has 3", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("kəmpjˈuːɾɚ", "K AH M P Y UW T ER")]
    [InlineData("vˈɔɪshʌb", "V OY S HH AH B")]
    [InlineData("dʒˈɑːɹvɪs", "JH AA R V IH S")]
    [InlineData("kˌæpuːtʃˈiːnoʊ", "K AE P UW CH IY N OW")]
    [InlineData("ʁ", null)]
    public void Ipa_maps_onto_the_cmu_phone_set(string ipa, string? phones)
    {
        Assert.Equal(phones, EspeakPronouncer.FromIpa(ipa));
    }
}
