using VoiceHub.Core.Audio;
using VoiceHub.Core.Wake;
using VoiceHub.Core.Wake.Neural;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Wake;

/// <summary>
/// The wake word's neural stage on openWakeWord's models as the set-up fetches them (checked
/// against npm's sha512): the reference feature pipeline, pretrained heads, and enrollment.
/// </summary>
[Trait("needs", "native")]
public sealed class NeuralWakeTests
{
    private static string Models => Path.Combine(TestPaths.Root, "artifacts", "wake-models");

    private static string Head(string name) => Path.Combine(Models, "heads", $"{name}_v0.1.onnx");

    private static float[] Say(string text, string voice = "en-us") =>
        WakeSpeech.Render(text, voice, 150, 50) ?? throw new InvalidOperationException("espeak-ng did not speak");

    /// <summary>Speech surrounded by a little background noise, as a microphone never gives digital silence.</summary>
    private static float[] InRoom(params float[][] parts)
    {
        var random = new Random(3);
        var audio = new float[8000].Concat(parts.SelectMany(p => p.Concat(new float[8000]))).Concat(new float[16000]).ToArray();
        for (var i = 0; i < audio.Length; i++)
        {
            audio[i] += (float)((random.NextDouble() - 0.5) * 0.002);
        }

        return audio;
    }

    private static List<WakeDetection> Detect(IWakeDetector detector, float[] audio)
    {
        var detections = new List<WakeDetection>();
        for (var at = 0; at < audio.Length; at += 320)
        {
            detections.AddRange(detector.Process(new AudioBlock(audio.AsMemory(at, Math.Min(320, audio.Length - at)), AudioFile.Time(at))));
        }

        return detections;
    }

    [Fact]
    public void The_feature_pipeline_gives_one_embedding_per_80_ms_chunk_and_a_16_by_96_window()
    {
        using var features = WakeFeatureModels.Load(Models);
        var stream = features.OpenStream();
        var chunks = new List<long>();

        stream.Push(new float[(1280 * 10) + 500], s => chunks.Add(s.Chunks));

        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), chunks);
        Assert.Equal(16 * 96, stream.Window.Length);
        Assert.Contains(stream.Window.ToArray(), v => v != 0);
    }

    [Theory]
    [InlineData("alexa", "alexa, what is the weather")]
    [InlineData("hey_jarvis", "hey jarvis, turn on the light")]
    public void A_pretrained_head_scores_its_own_phrase_high_and_other_speech_low(string head, string sentence)
    {
        using var features = WakeFeatureModels.Load(Models);
        // espeak-ng's robotic voice is far from the voices the heads were trained on: a third is high for it.
        using var own = new NeuralWakeDetector(features, OnnxWakeHead.Load(Head(head)), threshold: 0.3, TimeSpan.FromSeconds(2));
        using var other = new NeuralWakeDetector(features, OnnxWakeHead.Load(Head(head)), threshold: 0.3, TimeSpan.FromSeconds(2));

        var heard = Detect(own, InRoom(Say(sentence)));
        var notHeard = Detect(other, InRoom(
            AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav")),
            AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")),
            Say("what a lovely day for a walk in the park")));

        Assert.True(heard.Count == 1, $"{heard.Count} detections, highest score {own.MaxScore:0.00}");
        var detection = heard[0];
        Assert.Equal(head.Replace('_', ' '), detection.Phrase);
        Assert.InRange(detection.End.TotalSeconds, 0.5, 2.5); // the phrase opens the sentence
        Assert.Empty(notHeard);
        Assert.True(other.MaxScore < 0.1, $"highest score on other speech {other.MaxScore:0.00}");
    }

    [Fact]
    public void The_first_five_scores_of_a_stream_are_zero_as_in_the_reference()
    {
        using var features = WakeFeatureModels.Load(Models);
        using var detector = new NeuralWakeDetector(features, OnnxWakeHead.Load(Head("alexa")), threshold: 0.5, TimeSpan.FromSeconds(2)) { Scores = [] };

        Detect(detector, InRoom(Say("alexa")));

        Assert.All(detector.Scores!.Take(5), s => Assert.Equal(0f, s.Score));
        Assert.Contains(detector.Scores!.Skip(5), s => s.Score > 0);
    }

    [Fact]
    public void An_enrolled_model_learns_the_phrase_from_recordings_and_saves_and_loads_unchanged()
    {
        using var features = WakeFeatureModels.Load(Models);
        var recordings = new[] { "en-us", "en-gb", "en-us+f2", "en-gb-scotland" }
            .Select(v => new EnrollmentClip(v, InRoom(Say("computer", v)))).ToList();
        var others = new[] { "turn on the kitchen light", "what time is it", "can you pass the salt", "the weather is nice today", "where are my keys", "i need a coffee" }
            .SelectMany(t => new[] { Say(t), Say(t, "en-gb+f2") }).ToList();
        var trainer = new WakeTrainer(features) { AugmentationsPerRecording = 10, Epochs = 20, Bank = NegativeSpeechBank.LoadDefault() };

        var model = trainer.Train("computer", recordings, [], others);
        using var directory = new TempDirectory();
        model.Save(directory.File("computer.wake"));
        using var loaded = EnrolledWakeModel.Load(directory.File("computer.wake"));
        using var heard = new NeuralWakeDetector(features, loaded, threshold: 0.5, TimeSpan.FromSeconds(2));
        using var notHeard = new NeuralWakeDetector(features, EnrolledWakeModel.Load(directory.File("computer.wake")), threshold: 0.5, TimeSpan.FromSeconds(2));

        var detections = Detect(heard, InRoom(Say("computer", "en-us+m3")));
        Detect(notHeard, InRoom(Say("please close the garage door")));

        Assert.Equal("computer", Assert.Single(detections).Phrase);
        Assert.True(notHeard.MaxScore < 0.5, $"other speech scored {notHeard.MaxScore:0.00}");
        Assert.True(heard.MaxScore > notHeard.MaxScore + 0.3, $"the phrase scored {heard.MaxScore:0.00}, other speech {notHeard.MaxScore:0.00}");
        var window = new float[16 * 96];
        for (var i = 0; i < window.Length; i++)
        {
            window[i] = (float)Math.Sin(i);
        }

        Assert.Equal(model.Score(window), loaded.Score(window), 6);
    }

    [Fact]
    public void The_default_phrase_is_heard_by_its_shipped_model_and_checks_and_other_speech_is_not()
    {
        using var directory = new TempDirectory();
        var models = new VoiceHub.Core.Models.ModelsOptions { Directory = directory.Path };
        using var detector = WakeDetectors.Create(new WakeOptions { Phrases = [new WakePhrase()], FeatureModelDirectory = Models }, models);
        var jarvis = AudioFile.ReadMono16k(TestPaths.Fixture("wake-jarvis.wav"));
        var command = AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav"));
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));

        var detections = Detect(detector, InRoom(jarvis, command, computer));

        var detection = Assert.Single(detections);
        Assert.Equal("computer", detection.Phrase);
        Assert.NotNull(detection.VerifyScore); // the phrase verifier looked at it
        var computerStarts = (8000 + jarvis.Length + 8000 + command.Length + 8000) / 16000.0;
        Assert.InRange(detection.End.TotalSeconds, computerStarts + 0.3, computerStarts + (computer.Length / 16000.0) + 0.5);
        Assert.False(Directory.Exists(Path.Combine(directory.Path, "wake")), "the shipped model was used, nothing trained");
    }

    [Fact]
    public void A_stop_while_a_phrase_model_trains_gives_up_the_training_and_saves_nothing()
    {
        using var directory = new TempDirectory();
        var models = new VoiceHub.Core.Models.ModelsOptions { Directory = directory.Path };
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(1)); // training takes about a minute

        Assert.ThrowsAny<OperationCanceledException>(() => WakeDetectors.Create(
            new WakeOptions { Phrases = [new WakePhrase { Phrase = "hey toaster" }], FeatureModelDirectory = Models }, models, cancellationToken: stopping.Token));

        Assert.False(File.Exists(Path.Combine(directory.Path, "wake", PhraseWakeModels.FileName("hey toaster"))), "no half-trained model was saved");
    }

    [Fact]
    public void A_phrase_with_a_word_outside_the_dictionary_is_spelled_by_espeak_and_spotted()
    {
        using var detector = new WakeWordDetector("/usr/share/pocketsphinx/model/en-us", new WakeOptions { Phrases = [new WakePhrase { Phrase = "hey voicehub" }] });

        Assert.Equal(["hey voicehub"], detector.Phrases);
    }

    [Fact]
    public void A_wake_model_with_the_wrong_shape_is_refused_with_its_name_and_shape()
    {
        // The mel model is a real ONNX file, but its input is audio, not a window of embeddings.
        var error = Assert.Throws<WakeModelException>(() => OnnxWakeHead.Load(Path.Combine(Models, "melspectrogram.onnx")));

        Assert.Contains("melspectrogram.onnx: input is float [-1, -1], expected float [any, 16, 96]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wake_head_with_open_sizes_that_cannot_score_our_window_is_refused_when_it_loads()
    {
        using var directory = new TempDirectory();
        OnnxModelWriter.WriteHead(directory.File("hey_pantry.onnx"), 28, 96); // made for 28 embeddings, not 16

        var error = Assert.Throws<WakeModelException>(() => OnnxWakeHead.Load(directory.File("hey_pantry.onnx")));

        Assert.True(error.Message.StartsWith(directory.File("hey_pantry.onnx") + ": cannot score a window of 16 embeddings (", StringComparison.Ordinal), error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_broken_wake_model_is_one_line_naming_it_not_an_onnxruntime_crash()
    {
        using var directory = new TempDirectory();
        File.WriteAllBytes(directory.File("broken.onnx"), [0x08, 0x07, 0x12, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);

        var error = Assert.Throws<WakeModelException>(() => WakeDetectors.Create(new WakeOptions { Model = directory.File("broken.onnx"), FeatureModelDirectory = Models }, new VoiceHub.Core.Models.ModelsOptions()));

        Assert.StartsWith(directory.File("broken.onnx") + ": onnxruntime cannot load it", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    /// <summary>Scores chunk after chunk from a script (0 once it runs out), whatever the window holds.</summary>
    private sealed class ScriptedScorer(params float[] scores) : IWakeScorer
    {
        private int _next;

        public string Phrase => "computer";

        public double DefaultThreshold => 0.5;

        public float Score(ReadOnlySpan<float> window) => _next < scores.Length ? scores[_next++] : 0f;

        public void Dispose()
        {
        }
    }

    [Theory]
    [InlineData(new[] { 0.1f, 0.6f, 0.9f, 0.7f, 0.2f }, 3, new[] { 3, 4 })] // rising for a chunk: reported at its peak, then the chunk after it over the threshold
    [InlineData(new[] { 0.1f, 0.6f, 0.7f, 0.8f, 0.95f, 0.2f }, 4, new[] { 4, 5 })] // still rising after two more chunks: reported there, not later
    [InlineData(new[] { 0.1f, 0.9f, 0.6f, 0.2f }, 2, new[] { 2, 3 })] // falling at once: the crossing itself
    public void A_detection_waits_for_a_rising_score_to_peak_and_every_later_chunk_over_the_threshold_follows(float[] script, int peakChunk, int[] reportedChunks)
    {
        using var features = WakeFeatureModels.Load(Models);
        // The first five chunks of a stream score zero unasked; the script starts at the sixth.
        using var detector = new NeuralWakeDetector(features, [(new ScriptedScorer(script), 0.5)], TimeSpan.Zero);

        var found = Detect(detector, new float[1280 * (5 + script.Length + 1)]);

        var chunk = TimeSpan.FromMilliseconds(80);
        Assert.Equal(reportedChunks.Select(c => chunk * (5 + c)), found.Select(d => d.End));
        Assert.Equal(script[peakChunk - 1], found[0].Score);
        Assert.Equal(chunk * (5 + peakChunk), found[0].End);
    }

    [Fact]
    public void With_a_refractory_time_a_crossing_is_one_detection_at_its_peak()
    {
        using var features = WakeFeatureModels.Load(Models);
        using var detector = new NeuralWakeDetector(features, [(new ScriptedScorer(0.1f, 0.6f, 0.9f, 0.7f, 0.8f, 0.2f), 0.5)], TimeSpan.FromSeconds(2));

        var found = Detect(detector, new float[1280 * 12]);

        var detection = Assert.Single(found);
        Assert.Equal(TimeSpan.FromMilliseconds(80 * (5 + 3)), detection.End);
        Assert.Equal(0.9f, detection.Score);
    }
}
