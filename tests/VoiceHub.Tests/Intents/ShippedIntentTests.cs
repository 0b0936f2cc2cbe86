using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Registry;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Intents;

/// <summary>
/// Every test sentence in intents/tests/en (Home Assistant's intent-test layout, our own
/// sentences) against the shipped intents/en templates and the test home in _fixtures.yaml.
/// </summary>
public sealed class ShippedIntentTests
{
    private static readonly Lazy<IntentRecognizer> s_recognizer = new(() => IntentRecognizer.Create(
        IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")),
        DevicesFile.Load(IntentTests.FixturesFor(TestFolder))));

    private static string TestFolder => Path.Combine(TestPaths.Root, "intents", "tests", "en");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var test in IntentTests.Load(TestFolder))
        {
            data.Add(test.ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Test_sentence_gives_the_expected_command(string name)
    {
        var test = IntentTests.Load(TestFolder).Single(t => t.ToString() == name);

        var result = await s_recognizer.Value.RecognizeAsync(test.Sentence, test.Context);

        Assert.Null(IntentTests.Check(test, result));
    }

    [Fact]
    public void Every_intent_of_the_contract_has_templates_and_test_sentences()
    {
        string[] contract =
        [
            "HassTurnOn", "HassTurnOff", "HassToggle", "HassLightSet", "HassGetState",
            "HassSetPosition", "HassClimateSetTemperature", "HassClimateGetTemperature", "HassMediaPause", "HassMediaUnpause",
            "HassMediaNext", "HassMediaPrevious", "HassSetVolume", "HassNevermind", "HassStartTimer", "HassCancelTimer", "HassGetCurrentTime",
        ];
        var tested = IntentTests.Load(TestFolder).Select(t => t.Intent).ToHashSet();

        Assert.Empty(contract.Except(s_recognizer.Value.Matcher.Intents.IntentNames));
        Assert.Empty(contract.Except(tested!));
    }
}
