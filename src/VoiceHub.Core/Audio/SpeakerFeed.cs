using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Audio;

/// <summary>
/// What the hub's speaker played, converted to the microphone's 16 kHz: the echo canceller's
/// reference. The speaker writes each block as it hands it to the sound card (any rate, any
/// thread); the audio loop reads as much as each microphone block is long. Playback that runs
/// further ahead of the microphone than the echo canceller can model is cut back to that lead,
/// with one warning per answer, so a lagging microphone costs cancellation, never memory.
/// </summary>
public sealed class SpeakerFeed(TimeSpan maxLead, Action<string>? warn = null) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly float[] _ring = new float[Math.Max(1, (int)(maxLead.TotalSeconds * AudioFile.SampleRate))];
    private int _head; // oldest unread sample
    private int _count;
    private SoxrResampler? _resampler;
    private float[] _converted = [];
    private bool _warnedThisAnswer;
    private bool _disposed;
    private bool _playing;

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

            _playing |= samples.Length > 0;

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
    public int Read(Span<float> reference)
    {
        lock (_lock)
        {
            var taken = Math.Min(reference.Length, _count);
            for (var i = 0; i < taken; i++)
            {
                reference[i] = _ring[(_head + i) % _ring.Length];
            }

            reference[taken..].Clear();
            _head = (_head + taken) % _ring.Length;
            _count -= taken;
            return taken;
        }
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
