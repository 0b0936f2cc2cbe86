using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Audio;

/// <summary>Echo cancellation settings (section <c>audio:echo</c>).</summary>
public sealed class EchoCancellationOptions
{
    /// <summary>The longest echo path to model: speaker-to-microphone delay plus the room's reverberation.</summary>
    public TimeSpan Tail { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Suppress what the canceller leaves of the echo (SpeexDSP's preprocessor).</summary>
    public bool SuppressResidual { get; set; } = true;
}

/// <summary>
/// Removes the hub's own voice and alarms from the microphone signal, with the speaker feed as the
/// reference (SpeexDSP's adaptive echo canceller), so the wake word and "stop" can be heard while
/// it talks. Takes blocks of any length: the microphone and the reference as they were at the same
/// moment (silence where the speaker played nothing). Not thread-safe: the audio loop owns it.
/// </summary>
public sealed class EchoCanceller : IDisposable
{
    private const int FrameSamples = 160; // 10 ms at 16 kHz

    private readonly SpeexEchoCanceller _speex;
    private readonly short[] _microphone = new short[FrameSamples];
    private readonly short[] _reference = new short[FrameSamples];
    private readonly short[] _cleaned = new short[FrameSamples];
    private int _fill;

    public EchoCanceller(EchoCancellationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tail = (int)Math.Clamp(options.Tail.TotalSeconds * AudioFile.SampleRate, FrameSamples * 2, AudioFile.SampleRate);
        _speex = new SpeexEchoCanceller(FrameSamples, tail, AudioFile.SampleRate, options.SuppressResidual);
    }

    /// <summary>Cancels the reference's echo from <paramref name="microphone"/> into <paramref name="output"/> (same length; the last partial frame comes out with the next call, so output lags by under 10 ms).</summary>
    public void Process(ReadOnlySpan<float> microphone, ReadOnlySpan<float> reference, Span<float> output)
    {
        if (reference.Length != microphone.Length || output.Length != microphone.Length)
        {
            throw new ArgumentException($"the microphone block ({microphone.Length} samples), its reference ({reference.Length}) and the output ({output.Length}) must be as long");
        }

        for (var i = 0; i < microphone.Length; i++)
        {
            // The frame being filled moves out as the cleaned frame of the previous call moves in: a fixed lag of one frame.
            output[i] = _cleaned[_fill] / 32768f;
            _microphone[_fill] = ToInt16(microphone[i]);
            _reference[_fill] = ToInt16(reference[i]);
            if (++_fill == FrameSamples)
            {
                _speex.Process(_microphone, _reference, _cleaned);
                _fill = 0;
            }
        }
    }

    private static short ToInt16(float sample) => (short)Math.Clamp(MathF.Round(sample * 32767f), short.MinValue, short.MaxValue);

    public void Dispose() => _speex.Dispose();
}
