using VoiceHub.Core.Audio;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Audio;

public sealed class FrontEndTests
{
    [Fact]
    public void The_ring_buffer_keeps_the_latest_audio_across_wrap_around()
    {
        var ring = new AudioRingBuffer(TimeSpan.FromMilliseconds(100)); // 1600 samples
        var block = new float[320];
        for (var b = 0; b < 20; b++)
        {
            Array.Fill(block, b);
            ring.Write(block);
        }

        Assert.Equal(TimeSpan.FromMilliseconds(400), ring.Now);
        Assert.Equal(TimeSpan.FromMilliseconds(300), ring.Oldest);
        var last = ring.CopySince(TimeSpan.FromMilliseconds(360));
        Assert.Equal(640, last.Length);
        Assert.All(last.Take(320), s => Assert.Equal(18f, s));
        Assert.All(last.Skip(320), s => Assert.Equal(19f, s));
        Assert.Equal(1600, ring.CopySince(TimeSpan.Zero).Length); // clamped to what is held
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.CopyTo(0, new float[10]));
    }

    [Fact]
    public void Writing_to_the_ring_buffer_allocates_nothing()
    {
        var ring = new AudioRingBuffer(TimeSpan.FromSeconds(2));
        var block = new float[320];
        ring.Write(block);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            ring.Write(block);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Speech_is_found_between_silences_and_the_utterance_ends_after_trailing_silence()
    {
        var speech = AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav"));
        var random = new Random(5);
        // A second of room noise, the command, another second; the noise runs under the command too.
        var stream = new float[16000].Concat(speech).Concat(new float[16000]).Select(s => s + ((random.NextSingle() - 0.5f) * 0.002f)).ToArray();
        var vad = new VoiceActivityDetector(new VadOptions());

        var events = new List<(VadEvent Event, TimeSpan At)>();
        for (var i = 0; i + 320 <= stream.Length; i += 320)
        {
            var e = vad.Process(stream.AsSpan(i, 320));
            if (e != VadEvent.None)
            {
                events.Add((e, TimeSpan.FromSeconds((i + 320) / 16000.0)));
            }
        }

        Assert.Equal(VadEvent.SpeechStarted, events[0].Event);
        Assert.InRange(vad.SpeechStart.TotalSeconds, 0.9, 1.3);
        var ended = Assert.Single(events, e => e.Event == VadEvent.UtteranceEnded);
        Assert.InRange(ended.At.TotalSeconds, 1.0 + (speech.Length / 16000.0), 1.0 + (speech.Length / 16000.0) + 0.8);

        // Each pause of 200 ms is reported once (the pipeline may end there); the last one 500 ms before the end.
        var pauses = events.Where(e => e.Event == VadEvent.Pause).ToList();
        Assert.NotEmpty(pauses);
        Assert.Equal(pauses.Count, pauses.Select(p => p.At).Distinct().Count());
        Assert.InRange((ended.At - pauses[^1].At).TotalMilliseconds, 480, 520);
        Assert.Equal([VadEvent.SpeechStarted, .. pauses.Select(p => p.Event), VadEvent.UtteranceEnded], events.Select(e => e.Event));
    }

    [Fact]
    public void Without_speech_listening_gives_up_and_endless_speech_is_cut()
    {
        var quiet = new VoiceActivityDetector(new VadOptions { NoSpeechTimeout = TimeSpan.FromSeconds(1) });
        var silence = new float[320];
        var events = Enumerable.Range(0, 60).Select(_ => quiet.Process(silence)).Where(e => e != VadEvent.None).ToList();
        Assert.Equal(VadEvent.NoSpeech, events[0]);

        var endless = new VoiceActivityDetector(new VadOptions { MaximumUtterance = TimeSpan.FromSeconds(2) });
        var tone = Enumerable.Range(0, 320).Select(i => MathF.Sin(i * 0.3f) * 0.3f).ToArray();
        endless.Process(new float[3200]); // the room's floor first
        var cut = Enumerable.Range(0, 200).Select(_ => endless.Process(tone)).Where(e => e != VadEvent.None).ToList();
        Assert.Equal([VadEvent.SpeechStarted, VadEvent.MaximumLength], cut.Take(2));
    }
}
