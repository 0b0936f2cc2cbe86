using VoiceHub.Core.Wake;
using VoiceHub.Core.Wake.Neural;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Wake;

/// <summary>Wake model files and enrollment recordings that cannot be used: one line naming the file and the problem.</summary>
public sealed class WakeModelFileTests
{
    private const int Window = 16 * 96;

    private static EnrolledWakeModel SmallModel(string phrase = "computer")
    {
        var random = new Random(5);
        float[] Numbers(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5))];
        return new EnrolledWakeModel(phrase, Numbers(Window), [.. Enumerable.Repeat(1f, Window)], Numbers(Window * 4), Numbers(4), Numbers(4), 0.1f, threshold: 0.6);
    }

    [Fact]
    public void An_enrolled_model_saved_and_loaded_scores_the_same_and_keeps_its_phrase_and_threshold()
    {
        using var directory = new TempDirectory();
        var model = SmallModel("hey kitchen");
        var window = Enumerable.Range(0, Window).Select(i => (float)Math.Cos(i * 0.1)).ToArray();

        model.Save(directory.File("kitchen.wake"));
        using var loaded = EnrolledWakeModel.Load(directory.File("kitchen.wake"));

        Assert.Equal("hey kitchen", loaded.Phrase);
        Assert.Equal(0.6, loaded.DefaultThreshold);
        Assert.Equal(model.Score(window), loaded.Score(window));
        Assert.NotEqual(model.Score(window), model.Score(new float[Window]));
    }

    [Theory]
    [InlineData("not json at all", "not a wake model")]
    [InlineData("{\"format\": \"something-else\"}", "not a wake model (no \"format\": \"voicehub-wake\")")]
    public void A_file_that_is_no_wake_model_is_refused(string content, string problem)
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("x.wake"), content);

        var error = Assert.Throws<WakeModelException>(() => WakeModels.Open(directory.File("x.wake")));

        Assert.StartsWith($"{directory.File("x.wake")}: {problem}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"features\": \"openwakeword-embedding-v1\"", "\"features\": \"other-features-v9\"", "made for features \"other-features-v9\"")]
    [InlineData("\"version\": 1", "\"version\": 7", "wake model version 7")]
    [InlineData("\"hidden\": 4", "\"hidden\": 5", "corrupt weights")]
    public void A_model_for_other_features_another_version_or_with_cut_weights_is_refused(string from, string to, string problem)
    {
        using var directory = new TempDirectory();
        SmallModel().Save(directory.File("m.wake"));
        var text = File.ReadAllText(directory.File("m.wake"));
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(directory.File("m.wake"), text.Replace(from, to, StringComparison.Ordinal));

        var error = Assert.Throws<WakeModelException>(() => EnrolledWakeModel.Load(directory.File("m.wake")));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_file_that_is_not_onnx_is_refused_before_onnxruntime_sees_it()
    {
        using var directory = new TempDirectory();
        File.WriteAllText(directory.File("head.onnx"), "<html>404 not found</html>");

        var error = Assert.Throws<WakeModelException>(() => WakeModels.Open(directory.File("head.onnx")));

        Assert.Equal($"{directory.File("head.onnx")}: not an ONNX model (it does not start with an ONNX header)", error.Message);
    }

    [Fact]
    public void A_missing_model_and_an_unknown_kind_of_file_are_named()
    {
        Assert.Equal("/nowhere/x.onnx: no such file", Assert.Throws<WakeModelException>(() => WakeModels.Open("/nowhere/x.onnx")).Message);
        Assert.Contains("a wake model is a .wake file", Assert.Throws<WakeModelException>(() => WakeModels.Open("/nowhere/x.tflite")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wake_model_in_a_missing_folder_is_named_when_read_and_when_written()
    {
        Assert.Equal("/nowhere/at/all/x.wake: no such file", Assert.Throws<WakeModelException>(() => EnrolledWakeModel.Load("/nowhere/at/all/x.wake")).Message);
        Assert.StartsWith("/nowhere/at/all/x.wake: cannot be written (", Assert.Throws<WakeModelException>(() => SmallModel().Save("/nowhere/at/all/x.wake")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hey_jarvis_v0.1.onnx", "hey jarvis")]
    [InlineData("/models/alexa_v0.1.onnx", "alexa")]
    [InlineData("my-kitchen.onnx", "my kitchen")]
    public void A_pretrained_heads_phrase_comes_from_its_file_name(string file, string phrase) =>
        Assert.Equal(phrase, OnnxWakeHead.PhraseFromFileName(file));

    private static float[] Tone(double seconds, double from, double to, float level)
    {
        var audio = new float[(int)(seconds * 16000)];
        for (var i = 0; i < audio.Length; i++)
        {
            var t = i / 16000.0;
            audio[i] = (float)((t >= from && t < to ? level * Math.Sin(2 * Math.PI * 300 * t) : 0) + ((((i * 7919) % 200) - 100) * 1e-5));
        }

        return audio;
    }

    [Fact]
    public void Enrollment_recordings_without_speech_clipped_or_too_short_are_named_with_the_problem()
    {
        Assert.Equal("quiet.wav: no speech in it (nothing louder than the background by 15 dB)",
            Assert.Throws<WakeEnrollmentException>(() => new EnrollmentClip("quiet.wav", Tone(2, 0, 0, 0)).FindSpeech()).Message);
        Assert.StartsWith("loud.wav: clipped (",
            Assert.Throws<WakeEnrollmentException>(() => new EnrollmentClip("loud.wav", Tone(2, 0.5, 1.2, 3f)).FindSpeech()).Message, StringComparison.Ordinal);
        Assert.StartsWith("short.wav: too short (0.20 s)",
            Assert.Throws<WakeEnrollmentException>(() => new EnrollmentClip("short.wav", Tone(0.2, 0, 0.1, 0.3f)).FindSpeech()).Message, StringComparison.Ordinal);
        Assert.StartsWith("blip.wav: too little speech (",
            Assert.Throws<WakeEnrollmentException>(() => new EnrollmentClip("blip.wav", Tone(2, 1, 1.05, 0.3f)).FindSpeech()).Message, StringComparison.Ordinal);
        Assert.StartsWith("long.wav: 3.5 s of sound",
            Assert.Throws<WakeEnrollmentException>(() => new EnrollmentClip("long.wav", Tone(5, 0.5, 4, 0.3f)).FindSpeech()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_good_recording_gives_where_its_speech_starts_and_ends()
    {
        var (start, end) = new EnrollmentClip("good.wav", Tone(2, 0.5, 1.2, 0.3f)).FindSpeech();

        Assert.InRange(start / 16000.0, 0.49, 0.51);
        Assert.InRange(end / 16000.0, 1.19, 1.21);
    }
}

/// <summary>Where a phrase's own neural model is kept, and how a phrase's sensitivity sets its threshold.</summary>
public sealed class PhraseWakeModelTests
{
    [Theory]
    [InlineData("computer", "computer.wake")]
    [InlineData("Hey Kitchen!", "hey_kitchen.wake")]
    [InlineData("  ok  house ", "ok__house.wake")]
    public void A_phrase_is_kept_under_a_file_name_made_of_its_words(string phrase, string file) =>
        Assert.Equal(file, PhraseWakeModels.FileName(phrase));

    [Fact]
    public void A_more_eager_sensitivity_is_a_lower_threshold_and_the_default_is_one_half()
    {
        Assert.Equal(0.5, PhraseWakeModels.Threshold(0.8), 9);
        Assert.True(PhraseWakeModels.Threshold(1) < PhraseWakeModels.Threshold(0.5));
        Assert.InRange(PhraseWakeModels.Threshold(0), 0.9, 0.99);
    }
}

/// <summary>The warning a user gets for a wake phrase that will wake the hub by mistake.</summary>
public sealed class WakePhraseAdviceTests
{
    private static string? Dictionary(string word) => word switch
    {
        "computer" => "K AH M P Y UW T ER",
        "hey" => "HH EY",
        "jarvis" => "JH AA R V AH S",
        "ok" => "OW K EY",
        "go" => "G OW",
        "bob" => "B AA B",
        _ => null,
    };

    [Fact]
    public void A_phrase_of_a_few_sounds_is_short_and_the_warning_says_why()
    {
        var warning = Assert.Single(WakePhraseAdvice.Warnings("Bob!", Dictionary));

        Assert.Equal("wake phrase \"bob\" is short (3 sounds): short phrases are heard inside other words; a phrase of three syllables or more wakes less often by mistake", warning);
    }

    [Fact]
    public void A_phrase_of_everyday_words_is_warned_about_conversation() =>
        Assert.Contains(WakePhraseAdvice.Warnings("ok go", Dictionary), w => w.EndsWith("expect it to wake on conversation", StringComparison.Ordinal));

    [Theory]
    [InlineData("computer")]
    [InlineData("jarvis")]
    [InlineData("hey jarvis")]
    public void A_long_enough_uncommon_phrase_gets_no_warning(string phrase) =>
        Assert.Empty(WakePhraseAdvice.Warnings(phrase, Dictionary));
}
