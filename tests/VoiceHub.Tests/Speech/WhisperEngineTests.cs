using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Registry;
using VoiceHub.Core.Speech;
using VoiceHub.Native;
using VoiceHub.Tests.Native;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Speech;

/// <summary>The whisper engine's contract, run on the random-weight whisper model (no real model is reachable here).</summary>
public sealed class WhisperEngineTests(RandomWhisperModel random) : IClassFixture<RandomWhisperModel>
{
    private static readonly Lazy<IntentSet> s_home = new(() => IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")));

    [Theory]
    [InlineData(" turn on the kitchen light", true)]
    [InlineData(" Turn on the Kitchen light.", true)]
    [InlineData(" Turn on, the kitchen light?", true)]
    [InlineData(" set the kitchen light to fifty percent", true)]
    [InlineData(" turn on the garage", false)]
    [InlineData("turn on the kitchen light", false)]
    public void The_command_grammar_accepts_template_sentences_in_whispers_spelling(string text, bool expected)
    {
        var registry = DevicesFile.Load(Path.Combine(TestPaths.Root, "intents", "tests", "en", "_fixtures.yaml"));

        var grammar = WhisperEngine.CommandGrammar(s_home.Value, registry);

        Assert.Equal(expected, grammar.Matches(text));
    }

    [Fact]
    public async Task Unsure_gibberish_from_a_random_model_is_rejected_rather_than_acted_on()
    {
        using var engine = new WhisperEngine(random.Path, new WhisperEngineOptions { Threads = 2 }, s_home.Value, DeviceRegistry.Empty);

        var transcript = await engine.TranscribeAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav")));

        // Random weights decode confidently repeated tokens, or nothing; never a command.
        Assert.True(transcript.IsRejected || IntentRecognizer.Create(s_home.Value, DeviceRegistry.Empty).RecognizeWithTemplates(transcript.Text, new Dictionary<string, string>()) is null);
    }

    [Fact]
    public async Task A_run_that_outlasts_its_timeout_is_aborted_and_reported()
    {
        using var engine = new WhisperEngine(random.Path, new WhisperEngineOptions { Threads = 1, Timeout = TimeSpan.FromMilliseconds(1) }, null, DeviceRegistry.Empty);

        var transcript = await engine.TranscribeAsync(new float[16000 * 30]);

        Assert.True(transcript.IsRejected);
        Assert.StartsWith("took longer than", transcript.Rejection, StringComparison.Ordinal);
    }

    [Fact]
    public void A_language_model_given_as_a_whisper_model_is_a_clear_error()
    {
        var error = Assert.Throws<ModelFormatException>(() => new WhisperEngine(TestPaths.LlamaTestModel, new WhisperEngineOptions(), null, DeviceRegistry.Empty));

        Assert.Contains("a GGUF file, not a whisper.cpp ggml model", error.Message, StringComparison.Ordinal);
    }
}
