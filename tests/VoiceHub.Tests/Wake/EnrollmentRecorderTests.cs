using VoiceHub.Core.Audio;
using VoiceHub.Core.Wake.Neural;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Wake;

/// <summary>Recording enrollment clips from a microphone (a WAV of the sayings stands in for it).</summary>
public sealed class EnrollmentRecorderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static float[] Computer => AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));

    /// <summary>The parts one after another, each followed by 1.5 s of a quiet room, written as a WAV to read like a microphone.</summary>
    private WavFileSource Microphone(params float[][] parts)
    {
        var random = new Random(9);
        float[] Room(int samples) => [.. Enumerable.Range(0, samples).Select(_ => (float)(random.NextDouble() - 0.5) * 0.002f)];
        var audio = Room(AudioFile.SampleRate).Concat(parts.SelectMany(p => p.Zip(Room(p.Length), (a, b) => a + b).Concat(Room(AudioFile.SampleRate * 3 / 2)))).ToArray();
        WavWriter.Write(_dir.File("microphone.wav"), audio);
        return new WavFileSource(_dir.File("microphone.wav"), TimeSpan.FromMilliseconds(20), realTime: false);
    }

    [Fact]
    public async Task Each_saying_becomes_a_clip_with_a_moment_of_the_room_around_it_and_each_is_asked_for_in_turn()
    {
        var prompts = new List<(int Number, string? Retry)>();
        var recorder = new EnrollmentRecorder(new VadOptions()) { Prompt = (number, _, retry) => prompts.Add((number, retry)) };

        var clips = await recorder.RecordAsync(Microphone(Computer, Computer, Computer), 3, "take", CancellationToken.None);

        Assert.Equal(["take 1", "take 2", "take 3"], clips.Select(c => c.Name));
        Assert.Equal([(1, null), (2, null), (3, null)], prompts);
        foreach (var clip in clips)
        {
            var (start, end) = clip.FindSpeech();
            Assert.InRange(start, AudioFile.SampleRate / 10, AudioFile.SampleRate); // room sound before the phrase
            Assert.True(clip.Samples.Length - end > AudioFile.SampleRate / 4, "room sound after the phrase");
            Assert.InRange(clip.Samples.Length, Computer.Length / 2, Computer.Length + (2 * AudioFile.SampleRate));
        }
    }

    [Fact]
    public async Task Talking_on_past_the_longest_phrase_is_asked_for_again_and_the_input_ending_early_is_one_line()
    {
        var talking = AudioFile.ReadMono16k(TestPaths.Fixture("not-a-command.wav")); // 2.6 s of speech
        var prompts = new List<(int Number, string? Retry)>();
        var recorder = new EnrollmentRecorder(new VadOptions()) { Prompt = (number, _, retry) => prompts.Add((number, retry)), MaximumPhrase = TimeSpan.FromSeconds(1.5) };

        var error = await Assert.ThrowsAsync<WakeEnrollmentException>(() => recorder.RecordAsync(Microphone(Computer, talking, Computer), 3, "take", CancellationToken.None));

        Assert.Equal("file:microphone.wav: the input ended after 2 of 3 recordings of the phrase", error.Message);
        Assert.Equal(2, prompts[2].Number); // the second saying was asked for again ...
        Assert.Contains("took over 1.5 s", prompts[2].Retry, StringComparison.Ordinal); // ... saying why
    }

    [Fact]
    public async Task Wake_enroll_records_from_its_input_and_a_recording_that_ends_too_soon_is_one_line_before_any_training()
    {
        _ = Microphone(Computer);

        var (code, output, error) = await Cli.CliTests.Run("wake", "enroll", "--phrase", "computer", "--out", _dir.File("mine.wake"), "--record", "3", "--input", _dir.File("microphone.wav"));

        Assert.Equal(2, code);
        Assert.Contains("say \"computer\" (1 of 3)", error, StringComparison.Ordinal);
        Assert.EndsWith("voicehub wake enroll: file:microphone.wav: the input ended after 1 of 3 recordings of the phrase", error.TrimEnd(), StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("mine.wake")));
        Assert.Empty(output);
    }
}
