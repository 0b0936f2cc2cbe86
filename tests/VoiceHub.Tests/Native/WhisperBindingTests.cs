using VoiceHub.Native;
using VoiceHub.Native.Grammar;
using VoiceHub.Native.Whisper;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>A whisper model with random weights (see <see cref="WhisperModelWriter"/>), written once for a test class.</summary>
public sealed class RandomWhisperModel : IDisposable
{
    private readonly TempDirectory _directory = new();

    public RandomWhisperModel() => Path = WhisperModelWriter.Write(_directory.File("random-tiny.bin"));

    public string Path { get; }

    public void Dispose() => _directory.Dispose();
}

/// <summary>
/// The whisper.cpp binding, run for real: on a random-weight model that decodes gibberish (so
/// segments, timestamps and confidences exist) and on whisper.cpp's weightless test model.
/// </summary>
public sealed class WhisperBindingTests(RandomWhisperModel random) : IClassFixture<RandomWhisperModel>
{
    private static readonly WhisperRunOptions s_options = new() { Threads = 2, TemperatureIncrement = 0, MaxTokens = 16 };

    [Fact]
    public async Task Transcribes_a_fixture_through_the_real_engine_into_timed_segments_with_confidences()
    {
        var samples = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav"));
        using var model = WhisperModel.Load(random.Path);
        using var session = model.CreateSession();

        var transcript = await session.TranscribeToEndAsync(samples, s_options);

        var segment = Assert.Single(transcript.Segments);
        Assert.NotEmpty(segment.Text.Trim());
        Assert.InRange(segment.Start, TimeSpan.Zero, segment.End);
        Assert.InRange(segment.End, segment.Start, TimeSpan.FromSeconds(30)); // one 30 s whisper window
        Assert.InRange(segment.NoSpeechProbability, 0f, 1f);
        Assert.InRange(segment.AverageLogProbability, -20f, 0f);
        Assert.InRange(segment.MinimumTokenProbability, float.Epsilon, 1f);
        Assert.Equal("1.9.1", WhisperModel.EngineVersion);
    }

    [Fact]
    public async Task The_weightless_test_model_runs_the_whole_pipeline_and_decodes_nothing()
    {
        using var model = WhisperModel.Load(TestPaths.WhisperTestModel);
        using var session = model.CreateSession();

        var transcript = await session.TranscribeToEndAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav")), s_options);

        Assert.True(model.File.IsPlaceholder);
        Assert.Empty(transcript.Segments);
    }

    [Fact]
    public async Task A_session_reused_across_utterances_gives_the_same_result_each_time()
    {
        var samples = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav"));
        using var model = WhisperModel.Load(random.Path);
        using var session = model.CreateSession();

        var first = await session.TranscribeToEndAsync(samples, s_options);
        var second = await session.TranscribeToEndAsync(samples, s_options);

        Assert.NotEmpty(first.Text);
        Assert.Equal(first.Segments, second.Segments);
    }

    [Fact]
    public async Task Cancellation_reaches_the_abort_callback_and_the_session_stays_usable()
    {
        // 3 minutes of sound: whisper decodes it as six 30 s windows, one segment each. The session
        // streams with one segment of look-ahead, so once the consumer has seen the first segment
        // at most one more can be ready; cancelling then must stop whisper.cpp mid-run.
        var samples = new float[16000 * 180];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = MathF.Sin(i * 0.05f) * 0.3f;
        }

        using var model = WhisperModel.Load(random.Path);
        using var session = model.CreateSession();
        var full = await session.TranscribeToEndAsync(samples, s_options);
        using var cancel = new CancellationTokenSource();

        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var segment in session.TranscribeAsync(samples, s_options, cancel.Token))
            {
                received++;
                await cancel.CancelAsync(); // the next abort check inside whisper.cpp stops the run
            }
        });

        Assert.True(full.Segments.Count >= 6, $"expected a segment per window, got {full.Segments.Count}");
        Assert.InRange(received, 1, 2);

        var again = await session.TranscribeToEndAsync(samples, s_options);
        Assert.Equal(full.Segments, again.Segments);
    }

    [Fact]
    public async Task Grammar_rules_reach_the_decoder_and_keep_its_text_inside_the_grammar()
    {
        // whisper.cpp's grammar is soft (a logit penalty) and leaves end-of-text and special tokens
        // free, so a random model may stop early: what it writes must still begin a grammar sentence.
        var grammar = GbnfGrammar.Parse("""
            root ::= " turn " ("on" | "off") " the " room " light"
            room ::= "kitchen" | "bedroom"
            """);
        using var rules = new WhisperGrammar(grammar);
        using var model = WhisperModel.Load(random.Path);
        using var session = model.CreateSession();
        var samples = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav"));
        var options = s_options with { SingleSegment = true, Timestamps = false };

        var free = await session.TranscribeToEndAsync(samples, options);
        var guided = await session.TranscribeToEndAsync(samples, options with { Grammar = rules });

        Assert.False(grammar.MatchesPrefix(free.Text), $"unguided gibberish should not fit the grammar: {free.Text}");
        Assert.True(grammar.MatchesPrefix(guided.Text), $"guided output outside the grammar: {guided.Text}");
    }

    [Fact]
    public void Grammar_compilation_encodes_alternatives_ranges_and_rule_references_as_whisper_expects()
    {
        var grammar = GbnfGrammar.Parse("root ::= [a-c] x | \"d\"\nx ::= [^q]");

        var root = WhisperGrammar.Compile(grammar.Rules[grammar.RootIndex]);

        var encoded = root.Select(e => ((int)e.type, e.value)).ToArray();
        Assert.Equal(new[] { (3, (uint)'a'), (5, (uint)'c'), (2, 1u), (1, 0u), (3, (uint)'d'), (0, 0u) }, encoded);
        var x = WhisperGrammar.Compile(grammar.Rules[1]).Select(e => ((int)e.type, e.value)).ToArray();
        Assert.Equal(new[] { (4, (uint)'q'), (0, 0u) }, x);
    }

    [Fact]
    public void A_model_file_with_impossible_dimensions_is_rejected_before_whisper_sees_it()
    {
        using var temp = new TempDirectory();
        var path = temp.File("bad-dimensions.bin");
        var bytes = File.ReadAllBytes(TestPaths.WhisperTestModel);
        BitConverter.GetBytes(385).CopyTo(bytes, 4 + (2 * 4)); // n_audio_state 384 -> 385: not divisible by 6 heads
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<ModelFormatException>(() => WhisperModel.Load(path));

        Assert.Equal(path, error.Path);
        Assert.Contains("impossible hyper-parameters", error.Message, StringComparison.Ordinal);
    }
}
