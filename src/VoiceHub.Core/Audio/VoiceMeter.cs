using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.Core.Audio;

/// <summary>
/// How much of an utterance Silero VAD hears as a voice, fed as the utterance arrives: an
/// utterance with less than <see cref="VadOptions.MinimumVoice"/> of it is clatter, a tone or
/// music, and no command, whatever the decoder made of it. Not thread-safe: the audio loop owns it.
/// </summary>
public sealed class VoiceMeter : IDisposable
{
    private readonly SileroVad _silero;
    private readonly float _threshold;
    private readonly SileroVad.State _state = new();
    private readonly float[] _frame = new float[SileroVad.FrameSamples];
    private int _fill;
    private int _voicedFrames;

    public VoiceMeter(SileroVad silero, VadOptions options)
    {
        ArgumentNullException.ThrowIfNull(silero);
        ArgumentNullException.ThrowIfNull(options);
        _silero = silero;
        _threshold = (float)options.SileroThreshold;
        Minimum = options.MinimumVoice;
    }

    /// <summary>
    /// A meter as configured, with Silero VAD's model from the wake models' folder; none when the check
    /// is off (<see cref="VadOptions.MinimumVoice"/> zero) or the model cannot be loaded
    /// (<paramref name="unavailable"/> is told why, and utterances go unchecked).
    /// </summary>
    public static VoiceMeter? Create(VadOptions options, Action<string> unavailable)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(unavailable);
        if (options.MinimumVoice <= TimeSpan.Zero)
        {
            return null;
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
    public TimeSpan Voiced => TimeSpan.FromSeconds(_voicedFrames * SileroVad.FrameSamples / (double)AudioFile.SampleRate);

    /// <summary>Too little voice for a command, or null: the reason, for the log and the trace.</summary>
    public string? Shortfall => Voiced < Minimum
        ? $"no voice in it ({Voiced.TotalMilliseconds:0} ms that Silero VAD hears as speech, under {Minimum.TotalMilliseconds:0} ms): noise, not a command"
        : null;

    /// <summary>A new utterance: Silero starts from silence.</summary>
    public void Reset()
    {
        _state.Clear();
        _fill = 0;
        _voicedFrames = 0;
    }

    public void Feed(ReadOnlySpan<float> samples)
    {
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

    public void Dispose() => _silero.Dispose();
}
