using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Models;
using VoiceHub.Core.Wake;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Wake;

/// <summary>Wake-word spotting with pocketsphinx on real recordings of "computer" and "jarvis".</summary>
[Trait("needs", "native")]
public sealed class WakeWordTests
{
    private const string Model = "/usr/share/pocketsphinx/model/en-us";

    private static List<WakeDetection> Detect(WakeWordDetector detector, params float[][] audio)
    {
        var stream = audio.SelectMany(a => a).Concat(new float[16000]).ToArray();
        var detections = new List<WakeDetection>();
        for (var i = 0; i + 320 <= stream.Length; i += 320)
        {
            detections.AddRange(detector.Process(new AudioBlock(stream.AsMemory(i, 320), TimeSpan.FromSeconds(i / 16000.0))));
        }

        return detections;
    }

    [Fact]
    public void The_wake_word_is_detected_where_it_is_said_and_not_elsewhere()
    {
        using var detector = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }] });
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));
        var jarvis = AudioFile.ReadMono16k(TestPaths.Fixture("wake-jarvis.wav"));
        var command = AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav"));

        var detections = Detect(detector, jarvis, command, computer);

        var detection = Assert.Single(detections);
        Assert.Equal("computer", detection.Phrase);
        var offset = (jarvis.Length + command.Length) / 16000.0;
        Assert.InRange(detection.End.TotalSeconds, offset + 0.5, offset + (computer.Length / 16000.0) + 0.1);
        Assert.True(detection.Start < detection.End);
        Assert.InRange(detection.Score, 0.5, 1);
    }

    [Fact]
    public async Task Detectors_created_on_many_threads_at_once_all_work()
    {
        // Regression: concurrent decoder set-up once corrupted the C library's FILE list (double free).
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));
        var found = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            using var detector = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }] });
            return Detect(detector, computer).Count;
        })));

        Assert.All(found, count => Assert.Equal(1, count));
    }

    [Fact]
    public void A_reset_detector_finds_the_phrase_in_every_new_stream()
    {
        // Regression: reusing a detector across files (timestamps starting at zero again) once
        // suppressed every later phrase as "refractory" and verified the wrong stretch of audio.
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));
        using var detector = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }] });

        var counts = Enumerable.Range(0, 3).Select(_ =>
        {
            detector.Reset();
            return Detect(detector, computer).Count;
        }).ToList();

        Assert.Equal([1, 1, 1], counts);
    }

    [Fact]
    public void After_a_gap_in_the_stream_the_phrase_is_spotted_again()
    {
        // The pipeline stops feeding the spotter while it handles a command; the stream resumes later.
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));
        using var detector = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }] });
        var found = new List<WakeDetection>();
        foreach (var offset in new[] { 0.0, 20.0, 45.5 })
        {
            var fed = 0;
            for (; fed + 320 <= computer.Length; fed += 320)
            {
                found.AddRange(detector.Process(new AudioBlock(computer.AsMemory(fed, 320), TimeSpan.FromSeconds(offset) + AudioFile.Time(fed))));
            }

            var silence = new float[320];
            for (var k = 0; k < 25; k++, fed += 320)
            {
                found.AddRange(detector.Process(new AudioBlock(silence, TimeSpan.FromSeconds(offset) + AudioFile.Time(fed))));
            }
        }

        Assert.Equal(3, found.Count);
        Assert.InRange(found[1].End.TotalSeconds, 20.5, 23.2);
        Assert.InRange(found[2].End.TotalSeconds, 46, 48.7);
    }

    [Fact]
    public void Several_phrases_are_spotted_each_by_name()
    {
        using var detector = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }, new WakePhrase { Phrase = "jarvis" }] });

        var detections = Detect(detector, AudioFile.ReadMono16k(TestPaths.Fixture("wake-jarvis.wav")), AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));

        Assert.Equal(["jarvis", "computer"], detections.Select(d => d.Phrase));
    }

    [Fact]
    public void The_refractory_period_stops_a_second_wake_right_after_the_first()
    {
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));
        var tight = computer.Skip(8000).Take(computer.Length - 16000).ToArray(); // the word with little silence around it
        using var eager = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }], Refractory = TimeSpan.Zero });
        using var refractory = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }], Refractory = TimeSpan.FromSeconds(5) });

        Assert.Equal(2, Detect(eager, tight, tight).Count);
        Assert.Single(Detect(refractory, tight, tight));
    }

    [Fact]
    public void The_verifier_knows_a_phrase_however_it_was_written()
    {
        using var verifier = new PhraseVerifier(Model, ["Computer!"]);
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));

        // A model's phrase ("computer") and the configured one ("Computer!") are the same phrase.
        Assert.True(double.IsFinite(verifier.Score("computer", computer)));
        Assert.True(double.IsFinite(verifier.Score("COMPUTER.", computer)));
        Assert.Throws<ArgumentException>(() => verifier.Score("jarvis", computer));
    }

    [Fact]
    public void The_verifier_scores_the_phrase_itself_whatever_the_room_before_it()
    {
        using var verifier = new PhraseVerifier(Model, ["computer"]);
        var computer = AudioFile.Voiced(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));
        var kitchen = AudioFile.ReadMono16k(TestPaths.Fixture("kitchen-noise.wav")).Select(s => s * 0.3f).ToArray();
        float[] After(double seconds) => [.. kitchen.Take((int)(seconds * AudioFile.SampleRate)), .. computer];

        var shortLead = verifier.Score("computer", After(0.2));
        var longLead = verifier.Score("computer", After(0.9));

        // Scored over the whole window, the kitchen before the word pulled the score toward zero
        // (1.90, then 1.13 with 0.9 s before it); over the word's frames only the room's effect on
        // pocketsphinx's normalization is left (1.78, then 1.45).
        Assert.InRange(shortLead, new WakeOptions().VerifyThreshold, double.PositiveInfinity);
        Assert.InRange(longLead, 0.7 * shortLead, double.PositiveInfinity);
        // Another word in the same place does not pass for the phrase.
        var jarvis = AudioFile.Voiced(AudioFile.ReadMono16k(TestPaths.Fixture("wake-jarvis.wav")));
        Assert.InRange(verifier.Score("computer", [.. kitchen.Take((int)(0.9 * AudioFile.SampleRate)), .. jarvis]), double.NegativeInfinity, new WakeOptions().VerifyThreshold);
    }

    [Fact]
    public void Words_outside_the_dictionary_are_spelled_by_espeak_and_a_phrase_without_words_is_an_error()
    {
        using var made_up = new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "hey blorptastic zingwobble" }] });
        var error = Assert.Throws<WakePhraseException>(() => new WakeWordDetector(Model, new WakeOptions { Phrases = [new WakePhrase { Phrase = "?!" }] }));

        Assert.Equal(["hey blorptastic zingwobble"], made_up.Phrases);
        Assert.Equal("a wake phrase has no words", error.Message);
    }

    [Fact]
    public void The_wake_stage_frees_its_detector_once_a_learned_model_replaced_it_and_no_other()
    {
        using var stage = new WakeStage(true, new WakeOptions { Phrases = [new WakePhrase()], Neural = false }, new ModelsOptions(), NullLogger.Instance);
        var made = stage.Detector!;
        using var other = new DisposalCountingDetector();

        stage.Retire(other);
        Assert.Same(made, stage.Detector);
        Assert.Equal(0, other.Disposals);

        stage.Retire(made);
        Assert.Null(stage.Detector);
        Assert.Throws<ObjectDisposedException>(() => made.Process(new AudioBlock(new float[320], TimeSpan.Zero)));
    }

    private sealed class DisposalCountingDetector : IWakeDetector
    {
        public int Disposals { get; private set; }

        public IReadOnlyList<string> Phrases => ["computer"];

        public IReadOnlyList<WakeDetection> Process(AudioBlock block) => [];

        public void Reset()
        {
        }

        public void Dispose() => Disposals++;
    }
}
