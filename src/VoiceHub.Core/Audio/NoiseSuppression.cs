using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Audio;

/// <summary>
/// SpeexDSP noise suppression settings (<c>eval speech --denoise</c>). Not in the hub's front end:
/// on the dev coffee orders it cost accuracy at every noise level (the acoustic model wants the noise,
/// not the suppressor's artefacts).
/// </summary>
public sealed class NoiseSuppressionOptions
{
    /// <summary>The most the noise is turned down.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 60)]
    public int MaxAttenuationDb { get; set; } = 15;

    /// <summary>Level quiet and loud talkers.</summary>
    public bool AutomaticGain { get; set; }
}

/// <summary>
/// SpeexDSP's noise suppressor over blocks of any length. It learns the noise from the stream, so it
/// runs continuously over the microphone, not per utterance. Not thread-safe: one stream owns it.
/// </summary>
public sealed class NoiseSuppressor : IDisposable
{
    private const int FrameSamples = 160; // 10 ms at 16 kHz

    private readonly SpeexNoiseSuppressor _speex;
    private readonly short[] _frame = new short[FrameSamples];
    private readonly short[] _cleaned = new short[FrameSamples];
    private int _fill;

    public NoiseSuppressor(NoiseSuppressionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _speex = new SpeexNoiseSuppressor(FrameSamples, AudioFile.SampleRate, options.MaxAttenuationDb, options.AutomaticGain);
    }

    /// <summary>Suppresses noise from <paramref name="input"/> into <paramref name="output"/> (same length; output lags by one 10 ms frame).</summary>
    public void Process(ReadOnlySpan<float> input, Span<float> output)
    {
        if (output.Length != input.Length)
        {
            throw new ArgumentException($"the output ({output.Length} samples) must be as long as the input ({input.Length})", nameof(output));
        }

        for (var i = 0; i < input.Length; i++)
        {
            output[i] = _cleaned[_fill] / 32768f;
            _frame[_fill] = (short)Math.Clamp(MathF.Round(input[i] * 32767f), short.MinValue, short.MaxValue);
            if (++_fill == FrameSamples)
            {
                _speex.Process(_frame);
                _frame.CopyTo(_cleaned, 0);
                _fill = 0;
            }
        }
    }

    /// <summary>The whole of <paramref name="audio"/>, suppressed, without the frame's lag.</summary>
    public float[] ProcessAll(ReadOnlySpan<float> audio)
    {
        var padded = new float[audio.Length + FrameSamples];
        audio.CopyTo(padded);
        var output = new float[padded.Length];
        Process(padded, output);
        return output[FrameSamples..];
    }

    public void Dispose() => _speex.Dispose();
}
