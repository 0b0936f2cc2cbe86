using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Audio;

/// <summary>
/// What the hub's speaker played, converted to the microphone's 16 kHz: the echo canceller's
/// reference. The speaker writes each block as it hands it to the sound card (any rate, any
/// thread); the audio loop reads as much as each microphone block is long. Playback that runs
/// further ahead of the microphone than the echo canceller can model is cut back to that lead,
/// with one warning per answer, so a lagging microphone costs cancellation, never memory.
/// </summary>
/// <remarks>
/// Each answer opens the sound card anew, so it starts anywhere within a microphone block. Read
/// with the time each block was captured, the feed puts an answer's first sample where in the
/// block the speaker handed it to the card (both by <paramref name="clock"/>), so every answer's
/// echo stays at the delay the canceller learned, and what is left of a cut-off answer (never
/// played) goes. Read without one, the answer starts with the next block read, up to a block off.
/// </remarks>
public sealed class SpeakerFeed(TimeSpan maxLead, Action<string>? warn = null, TimeProvider? clock = null) : IDisposable
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly float[] _ring = new float[Math.Max(1, (int)(maxLead.TotalSeconds * AudioFile.SampleRate))];
    private int _head; // oldest unread sample
    private int _count;
    private SoxrResampler? _resampler;
    private float[] _converted = [];
    private bool _warnedThisAnswer;
    private bool _disposed;
    private bool _playing;
    private long _answerStartedAt; // when the speaker handed the waiting answer's first sample to the card; 0: no answer waits to be placed
    private int _beforeAnswer; // samples of earlier sound ahead of the waiting answer's first
    private int _skipOwed; // samples of the placed answer still to drop as they come (their echo went by before the converter gave them)

    /// <summary>An answer has started whose first sample none of the microphone blocks read so far reached (they were captured before it).</summary>
    public bool Holding
    {
        get
        {
            lock (_lock)
            {
                return _answerStartedAt != 0;
            }
        }
    }

    /// <summary>The speaker is playing a sound: it has written since the last <see cref="EndOfSound"/> (not while it synthesizes, nor when it cannot play).</summary>
    public bool Playing
    {
        get
        {
            lock (_lock)
            {
                return _playing;
            }
        }
    }

    /// <summary>Speaker side: samples as they go to the sound card, at their own rate.</summary>
    public void Write(ReadOnlySpan<float> samples, int sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        lock (_lock)
        {
            if (_disposed)
            {
                return; // an answer still finishing as the hub shuts down
            }

            if (!_playing && samples.Length > 0)
            {
                _playing = true;
                _answerStartedAt = _clock.GetTimestamp();
                _beforeAnswer = _count;
                _skipOwed = 0;
            }

            if (sampleRate == AudioFile.SampleRate)
            {
                Append(samples);
                return;
            }

            if (_resampler?.InputRate != sampleRate)
            {
                _resampler?.Dispose();
                _resampler = new SoxrResampler(sampleRate, AudioFile.SampleRate);
            }

            var needed = _resampler.MaxOutputFor(samples.Length);
            if (_converted.Length < needed)
            {
                _converted = new float[needed];
            }

            Append(_converted.AsSpan(0, _resampler.Process(samples, _converted)));
        }
    }

    /// <summary>Speaker side: an answer ended (or was cut short); the converter's last samples go out and the next answer may warn again.</summary>
    public void EndOfSound()
    {
        lock (_lock)
        {
            if (_resampler is not null)
            {
                var tail = new float[_resampler.MaxOutputFor(0) + 256];
                Append(tail.AsSpan(0, _resampler.Flush(tail)));
                _resampler.Dispose();
                _resampler = null;
            }

            _warnedThisAnswer = false;
            _playing = false;
        }
    }

    /// <summary>
    /// Audio loop: the reference for the next microphone block, silence where nothing was played.
    /// Returns how many of the samples the speaker played.
    /// </summary>
    /// <param name="reference">As long as the microphone block.</param>
    /// <param name="capturedAt">When the block ended (its capture, a timestamp of the feed's clock); 0: unknown.</param>
    public int Read(Span<float> reference, long capturedAt = 0)
    {
        lock (_lock)
        {
            reference.Clear();
            if (_answerStartedAt != 0 && capturedAt != 0)
            {
                // Where in this block the answer's first sample falls: the block's length back from its end, less what played since.
                var start = reference.Length - (long)Math.Round(_clock.GetElapsedTime(_answerStartedAt, capturedAt).TotalSeconds * AudioFile.SampleRate);
                if (Math.Abs(start) <= _ring.Length) // further off, the stamps are of another clock than the speaker's: by the read, then
                {
                    return Place(reference, start);
                }

                _answerStartedAt = 0;
            }

            var before = _beforeAnswer;
            var taken = Take(reference);
            if (taken > before)
            {
                _answerStartedAt = 0; // the answer's first sample went out with this block
            }

            return taken;
        }
    }

    /// <summary>A block in which (or before which) the waiting answer starts at <paramref name="start"/>: the earlier sound up to there, then the answer.</summary>
    private int Place(Span<float> reference, long start)
    {
        var played = Take(reference[..(int)Math.Clamp(start, 0, Math.Min(reference.Length, _beforeAnswer))]);
        if (start >= reference.Length || _count == _beforeAnswer)
        {
            return played; // it starts after this block (or its converter has given nothing yet)
        }

        Skip(_beforeAnswer); // the rest of the earlier sound never played: the card was reopened for this answer
        var late = (int)Math.Max(0, -start); // it started before this block: that part's echo went by in blocks already read
        _skipOwed = late - Math.Min(late, _count);
        Skip(late - _skipOwed);
        _answerStartedAt = 0;
        return played + Take(reference[(int)Math.Max(0, start)..]);
    }

    /// <summary>The oldest samples into <paramref name="destination"/>, as many as there are; how many.</summary>
    private int Take(Span<float> destination)
    {
        var taken = Math.Min(destination.Length, _count);
        for (var i = 0; i < taken; i++)
        {
            destination[i] = _ring[(_head + i) % _ring.Length];
        }

        Skip(taken);
        return taken;
    }

    private void Skip(int samples)
    {
        _head = (_head + samples) % _ring.Length;
        _count -= samples;
        _beforeAnswer -= Math.Min(samples, _beforeAnswer);
    }

    /// <summary>Samples played and not yet read by the audio loop.</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    private void Append(ReadOnlySpan<float> samples)
    {
        var dropped = 0;
        foreach (var sample in samples)
        {
            if (_skipOwed > 0)
            {
                _skipOwed--;
                continue;
            }

            if (_count == _ring.Length)
            {
                _head = (_head + 1) % _ring.Length;
                _count--;
                dropped++;
            }

            _ring[(_head + _count) % _ring.Length] = sample;
            _count++;
        }

        var droppedOfAnswer = dropped - Math.Min(dropped, _beforeAnswer);
        _beforeAnswer -= dropped - droppedOfAnswer;
        if (_answerStartedAt != 0 && droppedOfAnswer > 0)
        {
            _answerStartedAt += droppedOfAnswer * _clock.TimestampFrequency / AudioFile.SampleRate; // its first samples are gone: the head now starts that much later
        }

        if (dropped > 0 && !_warnedThisAnswer)
        {
            _warnedThisAnswer = true;
            warn?.Invoke($"the speaker feed ran more than {_ring.Length * 1000 / AudioFile.SampleRate} ms ahead of the microphone (is capture stalled?); its oldest samples were dropped and echo cancellation is weaker until it catches up");
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _resampler?.Dispose();
            _resampler = null;
        }
    }
}
