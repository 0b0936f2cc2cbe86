using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.Core.Audio;

/// <summary>
/// How much of an utterance Silero VAD hears as a voice, fed as the utterance arrives: an
/// utterance with less than <see cref="VadOptions.MinimumVoice"/> of it is clatter, a tone or
/// music, and no command, whatever the decoder made of it. Not thread-safe: the audio loop owns it.
/// </summary>
public sealed class VoiceMeter : IDisposable
{
    private readonly SileroVad? _silero; // null: the endpointing detector's Silero judges the frames
    private readonly VoiceActivityDetector? _endpointing;
    private readonly float _threshold;
    private readonly SileroVad.State _state = new();
    private readonly float[] _frame = new float[SileroVad.FrameSamples];
    private int _fill;
    private long _voicedFrames;

    public VoiceMeter(SileroVad silero, VadOptions options)
    {
        ArgumentNullException.ThrowIfNull(silero);
        ArgumentNullException.ThrowIfNull(options);
        _silero = silero;
        _threshold = (float)options.SileroThreshold;
        Minimum = options.MinimumVoice;
    }

    /// <summary>
    /// A meter that counts the frames an endpointing detector's own Silero VAD judged speech, so the
    /// network runs once per frame (<see cref="Feed"/> ignores its samples: the detector is fed the
    /// same audio). Its <see cref="Reset"/> must come before the detector is fed the utterance.
    /// </summary>
    public VoiceMeter(VoiceActivityDetector endpointing, VadOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpointing);
        ArgumentNullException.ThrowIfNull(options);
        if (endpointing.SileroVoicedFrames is not { } voiced)
        {
            throw new ArgumentException("the endpointing detector decides by energy, not Silero VAD", nameof(endpointing));
        }

        _endpointing = endpointing;
        _voicedFrames = -voiced;
        Minimum = options.MinimumVoice;
    }

    /// <summary>
    /// A meter as configured, with Silero VAD's model from the wake models' folder; none when the check
    /// is off (<see cref="VadOptions.MinimumVoice"/> zero) or the model cannot be loaded
    /// (<paramref name="unavailable"/> is told why, and utterances go unchecked). When
    /// <paramref name="endpointing"/> runs Silero VAD itself, the meter reads its judgements.
    /// </summary>
    public static VoiceMeter? Create(VadOptions options, Action<string> unavailable, VoiceActivityDetector? endpointing = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(unavailable);
        if (options.MinimumVoice <= TimeSpan.Zero)
        {
            return null;
        }

        if (endpointing?.SileroVoicedFrames is not null)
        {
            return new VoiceMeter(endpointing, options);
        }

        try
        {
            return new VoiceMeter(SileroVad.LoadShipped(), options);
        }
        catch (WakeModelException e)
        {
            unavailable(e.Message);
            return null;
        }
    }

    /// <summary>The least voice an utterance holds to be taken for a command.</summary>
    public TimeSpan Minimum { get; }

    /// <summary>Voice heard since <see cref="Reset"/> (whole 32 ms frames at or above the Silero threshold).</summary>
    public TimeSpan Voiced => TimeSpan.FromSeconds(VoicedFrames * SileroVad.FrameSamples / (double)AudioFile.SampleRate);

    // Borrowing, _voicedFrames holds minus the detector's count at the last reset.
    private long VoicedFrames => _endpointing is null ? _voicedFrames : _endpointing.SileroVoicedFrames!.Value + _voicedFrames;

    /// <summary>Too little voice for a command, or null: the reason, for the log and the trace.</summary>
    public string? Shortfall => Voiced < Minimum
        ? $"no voice in it ({Voiced.TotalMilliseconds:0} ms that Silero VAD hears as speech, under {Minimum.TotalMilliseconds:0} ms): noise, not a command"
        : null;

    /// <summary>A new utterance: Silero starts from silence.</summary>
    public void Reset()
    {
        if (_endpointing is not null)
        {
            _voicedFrames = -_endpointing.SileroVoicedFrames!.Value;
            return;
        }

        _state.Clear();
        _fill = 0;
        _voicedFrames = 0;
    }

    public void Feed(ReadOnlySpan<float> samples)
    {
        if (_silero is null)
        {
            return;
        }

        while (!samples.IsEmpty)
        {
            var take = Math.Min(samples.Length, _frame.Length - _fill);
            samples[..take].CopyTo(_frame.AsSpan(_fill));
            samples = samples[take..];
            _fill += take;
            if (_fill == _frame.Length)
            {
                _voicedFrames += _silero.Step(_frame, _state) >= _threshold ? 1 : 0;
                _fill = 0;
            }
        }
    }

    public void Dispose() => _silero?.Dispose(); // a borrowed detector's model is the detector's to free
}
