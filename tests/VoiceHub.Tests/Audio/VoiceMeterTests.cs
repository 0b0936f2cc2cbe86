using VoiceHub.Core.Audio;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Audio;

/// <summary>The check that an utterance holds a voice (Silero VAD), on real recordings.</summary>
[Trait("needs", "native")]
public sealed class VoiceMeterTests : IDisposable
{
    private readonly VoiceMeter _meter = VoiceMeter.Create(new VadOptions(), problem => Assert.Fail(problem))!;

    public void Dispose() => _meter.Dispose();

    [Fact]
    public void A_person_saying_one_word_holds_enough_voice_and_kitchen_clatter_too_little()
    {
        _meter.Feed(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));
        var word = _meter.Voiced;
        var wordShortfall = _meter.Shortfall;
        _meter.Reset();
        _meter.Feed(AudioFile.ReadMono16k(TestPaths.Fixture("kitchen-noise.wav")));

        Assert.InRange(word.TotalMilliseconds, 300, 1500);
        Assert.Null(wordShortfall);
        Assert.True(_meter.Voiced < _meter.Minimum, $"{_meter.Voiced.TotalMilliseconds} ms of voice in kitchen noise");
        Assert.StartsWith("no voice in it", _meter.Shortfall, StringComparison.Ordinal);
    }

    [Fact]
    public void Blocks_of_any_length_add_up_to_what_the_whole_recording_holds()
    {
        var recording = AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav"));
        _meter.Feed(recording);
        var whole = _meter.Voiced;
        _meter.Reset();
        for (var at = 0; at < recording.Length; at += 333)
        {
            _meter.Feed(recording.AsSpan(at, Math.Min(333, recording.Length - at)));
        }

        Assert.True(whole > TimeSpan.FromSeconds(1), $"{whole.TotalMilliseconds} ms of voice in a spoken order");
        Assert.Equal(whole, _meter.Voiced);
    }

    [Fact]
    public void With_Silero_endpointing_the_meter_reads_the_detectors_judgements_and_counts_from_its_own_reset()
    {
        var options = new VadOptions { Detector = SpeechDetector.Silero };
        using var endpointing = VoiceActivityDetector.Create(options, problem => Assert.Fail(problem));
        using var borrowed = VoiceMeter.Create(options, problem => Assert.Fail(problem), endpointing)!;
        var order = AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav"));
        _meter.Feed(order);
        _ = endpointing.Process(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"))); // before the reset: not counted

        borrowed.Reset();
        endpointing.Reset();
        _ = endpointing.Process(order);
        borrowed.Feed(order); // ignored: the detector was fed

        Assert.Equal(_meter.Voiced, borrowed.Voiced);
        Assert.True(borrowed.Voiced > TimeSpan.FromSeconds(1), $"{borrowed.Voiced.TotalMilliseconds} ms of voice in a spoken order");
        borrowed.Dispose();
        _ = endpointing.Process(order); // the detector's model outlives the meter that borrowed it
    }

    [Fact]
    public void An_energy_detector_lends_no_judgements_so_the_meter_runs_its_own_Silero()
    {
        var options = new VadOptions();
        using var endpointing = VoiceActivityDetector.Create(options, problem => Assert.Fail(problem));
        using var own = VoiceMeter.Create(options, problem => Assert.Fail(problem), endpointing)!;
        own.Feed(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));

        Assert.Null(endpointing.SileroVoicedFrames);
        Assert.True(own.Voiced > TimeSpan.FromMilliseconds(300), $"{own.Voiced.TotalMilliseconds} ms");
    }

    [Fact]
    public void No_meter_when_the_check_is_off()
    {
        Assert.Null(VoiceMeter.Create(new VadOptions { MinimumVoice = TimeSpan.Zero }, problem => Assert.Fail(problem)));
    }
}
