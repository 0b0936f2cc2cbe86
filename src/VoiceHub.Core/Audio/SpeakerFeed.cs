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
/// with the block's capture time, the feed puts the answer's first sample where in the block it
/// started to play (by <paramref name="clock"/>), and every answer's echo stays at the delay the
/// canceller learned; read without one, the answer starts with the next block read, up to a block
/// off from the last answer.
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
    private long _answerStartedAt; // when the answer whose first sample is at the ring's head started playing; 0: no answer waits to be placed

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
                if (_count == 0)
                {
                    _answerStartedAt = _clock.GetTimestamp(); // placed by time only from a drained feed: what is left of the last answer goes first, as the card plays it
                }
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
    /// <param name="capturedAt">When the block's last sample was captured (a timestamp of the feed's clock); 0: unknown.</param>
    public int Read(Span<float> reference, long capturedAt = 0)
    {
        lock (_lock)
        {
            var from = 0;
            if (_answerStartedAt != 0 && capturedAt != 0)
            {
                // Where in this block the answer's first sample falls: its length back from the block's end, less what played since.
                var sinceStart = _clock.GetElapsedTime(_answerStartedAt, capturedAt).TotalSeconds * AudioFile.SampleRate;
                var start = reference.Length - (long)Math.Round(sinceStart);
                if (Math.Abs(start) > _ring.Length)
                {
                    _answerStartedAt = 0; // further off than the feed can hold: a clock of its own, not the speaker's; by the read, then
                }
                else if (start >= reference.Length || _count == 0)
                {
                    reference.Clear();
                    return 0; // it starts after this block (or its converter has given nothing yet)
                }
                else
                {
                    _answerStartedAt = 0;
                    Skip((int)Math.Clamp(-start, 0, _count)); // it started before this block: that part's echo went by in blocks already read
                    from = (int)Math.Max(0, start);
                }
            }

            reference[..from].Clear();
            var taken = Math.Min(reference.Length - from, _count);
            for (var i = 0; i < taken; i++)
            {
                reference[from + i] = _ring[(_head + i) % _ring.Length];
            }

            reference[(from + taken)..].Clear();
            Skip(taken);
            return taken;
        }
    }

    private void Skip(int samples)
    {
        _head = (_head + samples) % _ring.Length;
        _count -= samples;
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
            if (_count == _ring.Length)
            {
                _head = (_head + 1) % _ring.Length;
                _count--;
                dropped++;
            }

            _ring[(_head + _count) % _ring.Length] = sample;
            _count++;
        }

        if (dropped > 0)
        {
            _answerStartedAt = 0; // its first samples are gone: it can no longer be placed
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
