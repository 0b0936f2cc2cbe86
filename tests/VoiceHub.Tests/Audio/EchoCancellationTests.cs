using Microsoft.Extensions.Time.Testing;
using VoiceHub.Core.Audio;
using VoiceHub.Native;
using VoiceHub.Native.Audio;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Audio;

/// <summary>SpeexDSP's echo canceller (libspeexdsp1) removing the hub's own sound from the microphone.</summary>
[Trait("needs", "native")]
public sealed class EchoCancellationTests
{
    /// <summary>Speech-like reference: noise shaped by a slowly moving loudness.</summary>
    internal static float[] SpeechLikeSound(int samples, int seed)
    {
        var random = new Random(seed);
        var feed = new float[samples];
        for (var i = 0; i < samples; i++)
        {
            var envelope = 0.5 + (0.5 * Math.Sin(2 * Math.PI * 3 * i / 16000.0));
            feed[i] = (float)(((random.NextDouble() * 2) - 1) * 0.3 * envelope);
        }

        return feed;
    }

    /// <summary>The speaker as the microphone hears it: 20 ms later, quieter, with one reflection.</summary>
    internal static float[] Echo(float[] feed)
    {
        var echo = new float[feed.Length];
        for (var i = 320; i < feed.Length; i++)
        {
            echo[i] = (0.6f * feed[i - 320]) + (i >= 1120 ? 0.2f * feed[i - 1120] : 0);
        }

        return echo;
    }

    private static double Db(ReadOnlySpan<float> audio)
    {
        var sum = 0.0;
        foreach (var s in audio)
        {
            sum += s * (double)s;
        }

        return 10 * Math.Log10((sum / audio.Length) + 1e-12);
    }

    [Fact]
    public void The_speakers_echo_is_cancelled_by_at_least_20_dB_once_the_filter_has_adapted()
    {
        var feed = SpeechLikeSound(16000 * 6, seed: 1);
        var microphone = Echo(feed);
        var cleaned = new float[microphone.Length];
        using var canceller = new EchoCanceller(new EchoCancellationOptions());

        for (var at = 0; at < microphone.Length; at += 500) // blocks that are no multiple of its 10 ms frames
        {
            var n = Math.Min(500, microphone.Length - at);
            canceller.Process(microphone.AsSpan(at, n), feed.AsSpan(at, n), cleaned.AsSpan(at, n));
        }

        var lastTwoSeconds = microphone.Length - 32000;
        var reduction = Db(microphone.AsSpan(lastTwoSeconds)) - Db(cleaned.AsSpan(lastTwoSeconds));
        Assert.True(reduction >= 20, $"echo reduced by {reduction:0.0} dB");
    }

    [Fact]
    public void The_talker_comes_through_while_the_speaker_plays()
    {
        var feed = SpeechLikeSound(16000 * 6, seed: 2);
        var talker = new float[feed.Length];
        for (var i = 16000 * 4; i < 16000 * 5; i++)
        {
            talker[i] = (float)(0.2 * Math.Sin(2 * Math.PI * 440 * i / 16000.0));
        }

        var echo = Echo(feed);
        var microphone = talker.Zip(echo, (t, e) => t + e).ToArray();
        var cleaned = new float[microphone.Length];
        using var canceller = new EchoCanceller(new EchoCancellationOptions { SuppressResidual = false });

        canceller.Process(microphone, feed, cleaned);

        // Over the talker's second (one 10 ms frame later), what is left is the talker: the echo is far below it.
        var talkerPart = cleaned.AsSpan((16000 * 4) + 160 + 1600, 16000 - 3200);
        var residual = talkerPart.ToArray().Select((c, i) => c - talker[(16000 * 4) + 1600 + i]).ToArray();
        Assert.True(Db(talkerPart) - Db(residual) >= 10, $"talker {Db(talkerPart):0.0} dB, residual {Db(residual):0.0} dB");
    }

    /// <summary>
    /// The speaker on a clock <paramref name="ppm"/> faster than the microphone's, as the microphone hears
    /// it: 20 ms later, quieter, with one reflection (the stretch starts with both clocks together).
    /// </summary>
    private static float[] DriftingEcho(float[] feed, double ppm) => Echo(EchoPath.PlayedAtDrift(feed, ppm, feed.Length));

    /// <summary>
    /// Eight 5-second answers through one canceller, restarted for each as the hub does, each starting up to
    /// <paramref name="jitterSamples"/> later behind the feed; the echo reduction over the last answer's last three seconds.
    /// </summary>
    private static (double ReductionDb, EchoCanceller Canceller) Answers(double ppm, bool compensate, int jitterSamples = 0)
    {
        var canceller = new EchoCanceller(new EchoCancellationOptions { SuppressResidual = false, AlignFeed = compensate });
        var reduction = 0.0;
        var random = new Random(5);
        for (var answer = 0; answer < 8; answer++)
        {
            var feed = SpeechLikeSound(16000 * 5, seed: 10 + answer);
            var late = random.Next(jitterSamples + 1);
            var microphone = (float[])[.. new float[late], .. DriftingEcho(feed, ppm).AsSpan(0, feed.Length - late)];
            var cleaned = new float[microphone.Length];
            canceller.Restart();
            for (var at = 0; at < microphone.Length; at += 320)
            {
                canceller.Process(microphone.AsSpan(at, 320), feed.AsSpan(at, 320), cleaned.AsSpan(at, 320));
            }

            reduction = Db(microphone.AsSpan(16000 * 2)) - Db(cleaned.AsSpan(16000 * 2));
        }

        return (reduction, canceller);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(-150)]
    public void A_speaker_on_a_clock_of_its_own_is_measured_and_its_echo_still_cancelled(double ppm)
    {
        var (without, uncompensated) = Answers(ppm, compensate: false);
        uncompensated.Dispose();
        var (with, canceller) = Answers(ppm, compensate: true);
        using (canceller)
        {
            Assert.InRange(canceller.DriftPpm!.Value, ppm - Math.Abs(ppm / 10), ppm + Math.Abs(ppm / 10));
        }

        Assert.True(with >= 20 && with >= without + 6, $"echo reduced by {with:0.0} dB with the drift followed, {without:0.0} dB without");
    }

    [Fact]
    public void Answers_that_each_start_at_another_delay_behind_the_feed_are_moved_back_to_where_the_echo_was_learned()
    {
        var (without, unaligned) = Answers(0, compensate: false, jitterSamples: 320);
        unaligned.Dispose();
        var (with, canceller) = Answers(0, compensate: true, jitterSamples: 320);
        canceller.Dispose();

        Assert.True(with >= 20 && with >= without + 6, $"echo reduced by {with:0.0} dB with the feed aligned, {without:0.0} dB without");
    }

    [Fact]
    public void A_beeping_alarm_is_not_moved_where_its_echo_cannot_be_told_apart_from_itself_a_period_off()
    {
        // A kitchen timer's beep: 880 and 988 Hz by turns, a quarter second on and off; it correlates
        // with itself one period (18 samples) off as well as at its own delay, so where its echo is
        // cannot be measured: its feed stays where it was (no better than without alignment, and no worse).
        var alarm = new float[16000 * 3];
        for (var i = 0; i < alarm.Length; i++)
        {
            var t = i / 16000.0;
            alarm[i] = (int)(t / 0.25) % 2 == 0 ? (float)(0.4 * Math.Sin(2 * Math.PI * ((int)(t / 0.5) % 2 == 0 ? 880 : 988) * t)) : 0;
        }

        var reductions = new List<double>();
        foreach (var align in new[] { false, true })
        {
            using var canceller = new EchoCanceller(new EchoCancellationOptions { SuppressResidual = false, AlignFeed = align });
            var random = new Random(8);
            var microphone = Echo(alarm);
            var cleaned = new float[alarm.Length];
            for (var ring = 0; ring < 6; ring++)
            {
                var late = random.Next(321);
                microphone = [.. new float[late], .. Echo(alarm).AsSpan(0, alarm.Length - late)];
                canceller.Restart();
                for (var at = 0; at < alarm.Length; at += 320)
                {
                    canceller.Process(microphone.AsSpan(at, 320), alarm.AsSpan(at, 320), cleaned.AsSpan(at, 320));
                }
            }

            reductions.Add(Db(microphone.AsSpan(16000)) - Db(cleaned.AsSpan(16000)));
        }

        Assert.True(reductions[1] >= reductions[0] - 3, $"echo reduced by {reductions[1]:0.0} dB with the feed aligned, {reductions[0]:0.0} dB without");
    }

    [Fact]
    public void A_microphone_that_hears_nothing_is_no_echo_found_at_the_shortest_delay()
    {
        // All zeros correlate to zeros everywhere: no peak, and the first lag must not pass for one.
        var alignment = new FeedAlignment(longestDelay: 4000);
        var feed = SpeechLikeSound(16000 * 2, seed: 6);
        for (var stretch = 0; stretch < 3; stretch++)
        {
            alignment.Restart();
            foreach (var sample in feed)
            {
                alignment.Next(0f, sample);
            }
        }

        Assert.False(alignment.Found);
        Assert.Null(alignment.DriftPpm);
    }

    [Fact]
    public void With_one_clock_no_drift_is_measured_and_the_echo_found_at_its_delay()
    {
        var (reduction, canceller) = Answers(0, compensate: true);
        using (canceller)
        {
            Assert.InRange(canceller.DriftPpm!.Value, -FeedAlignment.NegligiblePpm / 2, FeedAlignment.NegligiblePpm / 2);
            Assert.InRange(canceller.DelaySamples!.Value, 319.5, 320.5); // Echo(): 20 ms
        }

        Assert.True(reduction >= 20, $"echo reduced by {reduction:0.0} dB");
    }

    [Fact]
    public void Frames_of_the_wrong_size_are_refused_and_the_preprocessor_keeps_the_echo_state_it_reads_alive()
    {
        using var canceller = new SpeexEchoCanceller(frameSamples: 160, tailSamples: 1600, sampleRate: 16000);
        Assert.Throws<ArgumentException>(() => canceller.Process(new short[100], new short[160], new short[160]));

        // Disposing the echo state first must not free it under the preprocessor that was linked to it.
        var echo = SpeexEchoHandle.Create(160, 1600, 16000);
        var preprocess = SpeexPreprocessHandle.Create(160, 16000);
        preprocess.LinkEcho(echo);
        echo.Dispose();
        var frame = Enumerable.Range(0, 160).Select(i => (short)(1000 * Math.Sin(i * 0.3))).ToArray();
        unsafe
        {
            fixed (short* x = frame)
            {
                _ = Interop.SpeexDsp.speex_preprocess_run(preprocess, x); // reads the echo state: still there
            }
        }

        Assert.Contains(frame, s => s != 0);
        preprocess.Dispose();
    }
}

/// <summary>The speaker feed (the echo canceller's reference) and the front end that listens while the hub talks.</summary>
[Trait("needs", "native")]
public sealed class SpeakerFeedTests
{
    [Fact]
    public void The_feed_gives_back_what_was_played_then_silence()
    {
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        feed.Write([0.1f, 0.2f, 0.3f], AudioFile.SampleRate);

        var reference = new float[5];
        Assert.Equal(3, feed.Read(reference));
        Assert.Equal([0.1f, 0.2f, 0.3f, 0f, 0f], reference);
        Assert.Equal(0, feed.Read(reference));
    }

    [Fact]
    public void With_capture_times_an_answer_starts_where_in_the_microphone_block_it_started_to_play()
    {
        var clock = new FakeTimeProvider();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1), clock: clock);
        var reference = new float[320]; // 20 ms blocks
        var answer = Enumerable.Range(1, 1000).Select(i => i / 1000f).ToArray();

        clock.Advance(TimeSpan.FromMilliseconds(100));
        var before = clock.GetTimestamp(); // a block captured before the answer started
        clock.Advance(TimeSpan.FromMilliseconds(5));
        feed.Write(answer, AudioFile.SampleRate);

        Assert.Equal(0, feed.Read(reference, before));
        Assert.All(reference, s => Assert.Equal(0f, s)); // none of it belongs in a block heard before it played

        clock.Advance(TimeSpan.FromMilliseconds(15)); // the block of 100-120 ms: the answer 5 ms (80 samples) into it
        Assert.Equal(240, feed.Read(reference, clock.GetTimestamp()));
        Assert.All(reference[..80], s => Assert.Equal(0f, s));
        Assert.Equal(answer[..240], reference[80..]);

        Assert.Equal(320, feed.Read(reference, clock.GetTimestamp() + 1)); // then on, block after block
        Assert.Equal(answer[240..560], reference);
    }

    [Fact]
    public void With_capture_times_a_feed_read_late_skips_what_already_echoed_in_blocks_gone_by()
    {
        var clock = new FakeTimeProvider();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1), clock: clock);
        var answer = Enumerable.Range(1, 1000).Select(i => i / 1000f).ToArray();

        clock.Advance(TimeSpan.FromMilliseconds(100));
        feed.Write(answer, AudioFile.SampleRate);
        clock.Advance(TimeSpan.FromMilliseconds(30)); // the first block read ends 30 ms after the answer started

        var reference = new float[320];
        Assert.Equal(320, feed.Read(reference, clock.GetTimestamp()));
        Assert.Equal(answer[160..480], reference); // its first 10 ms echoed in the block before
    }

    [Fact]
    public void A_new_answer_starts_at_its_own_time_and_what_was_left_of_a_cut_off_one_goes()
    {
        var clock = new FakeTimeProvider();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1), clock: clock);
        var reference = new float[320];

        clock.Advance(TimeSpan.FromMilliseconds(100));
        feed.Write(Enumerable.Repeat(0.9f, 1000).ToArray(), AudioFile.SampleRate);
        clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal(320, feed.Read(reference, clock.GetTimestamp()));
        feed.EndOfSound(); // cut off: 680 samples handed over, never played

        clock.Advance(TimeSpan.FromMilliseconds(10));
        feed.Write(Enumerable.Repeat(0.1f, 1000).ToArray(), AudioFile.SampleRate);
        clock.Advance(TimeSpan.FromMilliseconds(10)); // the block of 120-140 ms: the new answer from 130 ms, 160 samples in
        Assert.Equal(320, feed.Read(reference, clock.GetTimestamp()));
        Assert.All(reference[..160], s => Assert.Equal(0.9f, s));
        Assert.All(reference[160..], s => Assert.Equal(0.1f, s));

        Assert.Equal(320, feed.Read(reference, clock.GetTimestamp() + 1));
        Assert.All(reference, s => Assert.Equal(0.1f, s));
        Assert.Equal(1000 - 160 - 320, feed.Pending);
    }

    [Fact]
    public void An_answer_placed_before_its_samples_came_drops_those_whose_echo_went_by_as_they_come()
    {
        var clock = new FakeTimeProvider();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1), clock: clock);
        var answer = Enumerable.Range(1, 400).Select(i => i / 1000f).ToArray();

        clock.Advance(TimeSpan.FromMilliseconds(100));
        feed.Write(answer.AsSpan(0, 100), AudioFile.SampleRate);
        clock.Advance(TimeSpan.FromMilliseconds(30)); // 160 samples of it belong to the block before

        var reference = new float[320];
        Assert.Equal(0, feed.Read(reference, clock.GetTimestamp()));
        feed.Write(answer.AsSpan(100), AudioFile.SampleRate);
        Assert.Equal(240, feed.Read(reference, clock.GetTimestamp() + 1));
        Assert.Equal(answer[160..], reference[..240]);
    }

    [Fact]
    public void An_answer_waiting_in_an_overflowing_feed_is_placed_by_the_samples_it_kept()
    {
        var clock = new FakeTimeProvider();
        using var feed = new SpeakerFeed(TimeSpan.FromMilliseconds(100), clock: clock); // 1600 samples
        var answer = Enumerable.Range(0, 2000).Select(i => i / 2000f).ToArray();

        clock.Advance(TimeSpan.FromMilliseconds(100));
        feed.Write(answer, AudioFile.SampleRate); // 400 dropped: the first kept played 25 ms in
        clock.Advance(TimeSpan.FromMilliseconds(35)); // the block of 115-135 ms: the first kept 10 ms in

        var reference = new float[320];
        Assert.Equal(160, feed.Read(reference, clock.GetTimestamp()));
        Assert.All(reference[..160], s => Assert.Equal(0f, s));
        Assert.Equal(answer[400..560], reference[160..]);
    }

    [Fact]
    public void Capture_times_further_off_than_the_feed_holds_fall_back_to_the_next_block_read()
    {
        var clock = new FakeTimeProvider();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1), clock: clock);
        feed.Write([0.5f, 0.25f], AudioFile.SampleRate);

        var reference = new float[4];
        Assert.Equal(2, feed.Read(reference, clock.GetTimestamp() + (10 * clock.TimestampFrequency))); // ten seconds on: not the speaker's clock
        Assert.Equal([0.5f, 0.25f, 0f, 0f], reference);
    }

    [Fact]
    public void A_speaker_at_another_rate_is_converted_to_the_microphones_16_kHz()
    {
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(2));
        var tone = Enumerable.Range(0, 22050).Select(i => (float)(0.5 * Math.Sin(2 * Math.PI * 440 * i / 22050.0))).ToArray();

        feed.Write(tone, 22050); // espeak-ng's rate
        feed.EndOfSound();

        Assert.InRange(feed.Pending, 15900, 16100);
        var reference = new float[feed.Pending];
        feed.Read(reference);
        var crossings = reference.Skip(1000).Take(8000).Zip(reference.Skip(1001)).Count(p => p.First < 0 && p.Second >= 0);
        Assert.InRange(crossings, 218, 222); // 440 Hz over half a second: the pitch survived the conversion
    }

    [Fact]
    public void A_feed_running_ahead_of_the_microphone_keeps_only_the_latest_lead_and_warns_once()
    {
        var warnings = new List<string>();
        using var feed = new SpeakerFeed(TimeSpan.FromMilliseconds(100), warnings.Add);

        for (var i = 0; i < 10; i++)
        {
            feed.Write(Enumerable.Repeat((float)i, 800).ToArray(), AudioFile.SampleRate); // 50 ms each, nobody reading
        }

        Assert.Equal(1600, feed.Pending);
        var reference = new float[1600];
        feed.Read(reference);
        Assert.Equal(8f, reference[0]); // the last 100 ms
        var warning = Assert.Single(warnings);
        Assert.Contains("ahead of the microphone", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_feed_that_stays_silent_while_the_hub_talks_stops_the_listening_for_that_answer_with_one_warning()
    {
        var warnings = new List<string>();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        using var frontEnd = new EchoFrontEnd(feed, new EchoCancellationOptions(), warnings.Add);
        var block = new float[320];

        for (var i = 0; i < 100; i++)
        {
            feed.Write(new float[320], AudioFile.SampleRate); // the speaker plays, but its feed carries only zeros
            frontEnd.Process(block, talking: true);
        }

        Assert.False(frontEnd.CanHearWhileTalking);
        Assert.Single(warnings);
        frontEnd.Process(block, talking: false);
        Assert.False(frontEnd.CanHearWhileTalking); // its echo tail is not listened to either
        for (var i = 0; i < 200; i++)
        {
            feed.Write(Enumerable.Repeat(0.1f, 320).ToArray(), AudioFile.SampleRate);
            frontEnd.Process(block, talking: true);
        }

        Assert.True(frontEnd.CanHearWhileTalking); // the next answer, with sound in its feed, gets its chance
    }

    [Fact]
    public void A_speaker_on_another_clock_is_told_once_with_its_drift_and_then_listened_over()
    {
        var notes = new List<string>();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        using var frontEnd = new EchoFrontEnd(feed, new EchoCancellationOptions(), note: notes.Add);
        for (var answer = 0; answer < 6; answer++)
        {
            var sound = EchoCancellationTests.SpeechLikeSound(16000 * 5, seed: 20 + answer);
            var microphone = EchoCancellationTests.Echo(EchoPath.PlayedAtDrift(sound, 200, sound.Length));
            for (var at = 0; at < sound.Length; at += 320)
            {
                feed.Write(sound.AsSpan(at, 320), AudioFile.SampleRate);
                frontEnd.Process(microphone.AsMemory(at, 320), talking: true);
            }

            for (var i = 0; i < 50; i++) // a second between answers: the echo tail passes
            {
                frontEnd.Process(new float[320], talking: false);
            }
        }

        var note = Assert.Single(notes);
        Assert.Contains("ppm faster than the microphone's", note, StringComparison.Ordinal);
        Assert.True(frontEnd.CanHearWhileTalking, "the canceller keeps the echo out of a drifting clock's answers");
    }

    [Fact]
    public void The_hub_does_not_listen_over_itself_until_the_canceller_takes_its_echo_out()
    {
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        using var frontEnd = new EchoFrontEnd(feed, new EchoCancellationOptions());
        var sound = EchoCancellationTests.SpeechLikeSound(16000 * 10, seed: 3);
        var echo = EchoCancellationTests.Echo(sound);
        var unrelated = EchoCancellationTests.Echo(EchoCancellationTests.SpeechLikeSound(sound.Length, seed: 4));
        var at = 0;

        void Talk(double seconds, float[] microphone)
        {
            for (var end = at + (int)(seconds * 16000); at < end; at += 320)
            {
                feed.Write(sound.AsSpan(at, 320), AudioFile.SampleRate);
                frontEnd.Process(microphone.AsMemory(at, 320), talking: true);
            }
        }

        // A microphone whose sound the reference does not explain (a filter far from the room's):
        // however long the hub talks, what is left of it is not taken for a talker. Once it does, the
        // echo is found behind the feed (the feed moves to where the filter will learn it) and learned.
        Talk(4, unrelated);
        Assert.False(frontEnd.CanHearWhileTalking);
        Talk(5, echo);
        Assert.True(frontEnd.CanHearWhileTalking);
    }

    [Fact]
    public void After_someone_talked_over_an_answer_the_next_is_listened_to_once_it_shows_the_echo_is_still_taken_out()
    {
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        using var frontEnd = new EchoFrontEnd(feed, new EchoCancellationOptions());
        var sound = EchoCancellationTests.SpeechLikeSound(16000 * 20, seed: 3);
        var echo = EchoCancellationTests.Echo(sound);
        var echoAndTalker = echo.Zip(EchoCancellationTests.SpeechLikeSound(sound.Length, seed: 5), (e, t) => e + t).ToArray();
        var at = 0;

        void Talk(double seconds, bool someoneTalks = false)
        {
            for (var end = at + (int)(seconds * 16000); at < end; at += 320)
            {
                feed.Write(sound.AsSpan(at, 320), AudioFile.SampleRate);
                frontEnd.Process((someoneTalks ? echoAndTalker : echo).AsMemory(at, 320), talking: true);
            }
        }

        void Pause()
        {
            for (var i = 0; i < 50; i++) // a second between answers: the echo tail passes
            {
                frontEnd.Process(new float[320], talking: false);
            }

            at += 16000;
        }

        Talk(4); // the room is learned
        Pause();
        Talk(0.1);
        Assert.True(frontEnd.CanHearWhileTalking); // nobody talked over the last answer: heard at once
        Talk(1.5, someoneTalks: true);
        Pause();
        Talk(0.15);
        Assert.False(frontEnd.CanHearWhileTalking); // after double talk: checked first
        Talk(1.2);
        Assert.True(frontEnd.CanHearWhileTalking);
    }

    [Fact]
    public void An_answer_that_is_not_played_yet_or_at_all_is_no_silent_feed()
    {
        var warnings = new List<string>();
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        using var frontEnd = new EchoFrontEnd(feed, new EchoCancellationOptions(), warnings.Add);

        for (var i = 0; i < 150; i++) // 3 s of an answer being synthesized, or a speaker that cannot open its sound card
        {
            feed.Write([], AudioFile.SampleRate); // a speaker that writes each block, empty while nothing plays
            frontEnd.Process(new float[320], talking: true);
        }

        Assert.False(feed.Playing);
        Assert.Empty(warnings);
        feed.Write(new float[320], AudioFile.SampleRate);
        Assert.True(feed.Playing);
        feed.EndOfSound();
        Assert.False(feed.Playing);
    }

    [Fact]
    public void A_microphone_that_does_not_hear_the_speaker_is_listened_to_after_three_seconds_of_its_sound()
    {
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        using var frontEnd = new EchoFrontEnd(feed, new EchoCancellationOptions());
        var sound = Enumerable.Range(0, 320).Select(i => (float)Math.Sin(i * 0.2) * 0.2f).ToArray();

        void Talk(int blocks)
        {
            for (var i = 0; i < blocks; i++)
            {
                feed.Write(sound, AudioFile.SampleRate);
                frontEnd.Process(new float[320], talking: true);
            }
        }

        Talk(100); // 2 s
        Assert.False(frontEnd.CanHearWhileTalking);
        Talk(60); // 3.2 s
        Assert.True(frontEnd.CanHearWhileTalking);
    }

    [Fact]
    public void With_nothing_played_the_microphone_passes_unchanged()
    {
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        using var frontEnd = new EchoFrontEnd(feed, new EchoCancellationOptions());
        var microphone = Enumerable.Range(0, 320).Select(i => (float)Math.Sin(i * 0.1) * 0.2f).ToArray();

        var heard = frontEnd.Process(microphone, talking: false);

        Assert.Equal(microphone, heard.ToArray());
    }

    [Fact]
    public async Task The_simulated_room_ends_an_answer_at_the_block_that_plays_its_last_sample()
    {
        // The hub takes an answer's end from its task: ended late, the stream (read faster than
        // real time) would race on while the hub still counts itself talking and deaf.
        using var room = new SimulatedRoom(new float[16000 * 4], EchoPath.Random(new Random(1)), echoGain: 1f);
        Task? answer = null;
        var played = 0;
        await foreach (var block in room.ReadAsync(CancellationToken.None))
        {
            answer ??= SpeakAsync(room); // as the hub does: its own task awaits the speaker's
            if (room.IsSpeaking)
            {
                played++;
                Assert.False(answer.IsCompleted);
            }
            else
            {
                Assert.True(answer.IsCompleted, $"the answer ended {played} blocks in and its task is still running");
                break;
            }
        }

        Assert.True(played > 5);

        static async Task SpeakAsync(SimulatedRoom room) => await room.SayAsync("yes").ConfigureAwait(false);
    }
}
