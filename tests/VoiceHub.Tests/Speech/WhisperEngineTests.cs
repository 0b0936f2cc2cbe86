using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Speech;
using VoiceHub.Native;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Speech;

/// <summary>A whisper model with random weights (see <see cref="WhisperModelWriter"/>), written once for a test class.</summary>
[Trait("needs", "native")]
public sealed class RandomWhisperModel : IDisposable
{
    private readonly TempDirectory _directory = new();

    public RandomWhisperModel() => Path = WhisperModelWriter.Write(_directory.File("random-tiny.bin"));

    public string Path { get; }

    public void Dispose() => _directory.Dispose();
}

/// <summary>The whisper engine (Whisper.net) on the random-weight and weightless test models (no real model is reachable here).</summary>
[Trait("needs", "native")]
public sealed class WhisperEngineTests(RandomWhisperModel random) : IClassFixture<RandomWhisperModel>
{
    private static readonly Lazy<IntentSet> s_home = new(() => IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")));

    [Fact]
    public async Task The_weightless_test_model_runs_the_whole_pipeline_and_answers_with_a_rejection_or_text()
    {
        using var engine = new WhisperEngine(TestPaths.WhisperTestModel, new WhisperEngineOptions { Threads = 2 }, s_home.Value, DeviceRegistry.Empty);

        var transcript = await engine.TranscribeAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav")));

        Assert.Equal("whisper", transcript.Engine);
        Assert.Equal("tiny", engine.ModelFile.HyperParameters.SizeName);
        Assert.True(transcript.IsRejected || transcript.Text.Length > 0);
    }

    [Fact]
    public async Task Concurrent_requests_are_serialized_on_one_processor_and_all_complete()
    {
        using var engine = new WhisperEngine(random.Path, new WhisperEngineOptions { Threads = 2, MaxTokens = 16, MinimumAverageLogProbability = float.NegativeInfinity, Timeout = TimeSpan.FromMinutes(10) }, null, DeviceRegistry.Empty);
        var audio = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav"));

        var transcripts = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => engine.TranscribeAsync(audio)));

        Assert.Equal(3, transcripts.Length);
        Assert.All(transcripts, t => Assert.Equal(transcripts[0].Text, t.Text)); // one state, used in turn: the same answer each time
    }

    [Fact]
    public void The_packaged_runtime_reports_the_cpu_features_it_uses()
    {
        using var engine = new WhisperEngine(TestPaths.WhisperTestModel, new WhisperEngineOptions(), null, DeviceRegistry.Empty);

        Assert.Contains("AVX", WhisperEngine.RuntimeInfo, StringComparison.OrdinalIgnoreCase);
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
