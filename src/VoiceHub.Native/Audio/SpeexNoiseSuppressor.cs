namespace VoiceHub.Native.Audio;

/// <summary>
/// SpeexDSP's preprocessor on its own: stationary-noise suppression (a spectral gain from a running
/// noise estimate) and, optionally, automatic gain control. Works on fixed frames of int16
/// samples, in place; not thread-safe.
/// </summary>
public sealed unsafe class SpeexNoiseSuppressor : IDisposable
{
    private readonly SpeexPreprocessHandle _preprocess;

    /// <param name="frameSamples">Samples per call (10 ms at 16 kHz is 160).</param>
    /// <param name="maxAttenuationDb">The most the noise is turned down (SpeexDSP's default is 15 dB).</param>
    /// <param name="automaticGain">Level quiet and loud talkers.</param>
    public SpeexNoiseSuppressor(int frameSamples, int sampleRate, int maxAttenuationDb, bool automaticGain)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameSamples, 32);
        ArgumentOutOfRangeException.ThrowIfNegative(maxAttenuationDb);
        FrameSamples = frameSamples;
        _preprocess = SpeexPreprocessHandle.Create(frameSamples, sampleRate);
        var on = 1;
        var agc = automaticGain ? 1 : 0;
        var suppress = -maxAttenuationDb; // speexdsp takes the attenuation as a negative dB value
        _ = Interop.SpeexDsp.speex_preprocess_ctl(_preprocess, Interop.SpeexDsp.SPEEX_PREPROCESS_SET_DENOISE, &on);
        _ = Interop.SpeexDsp.speex_preprocess_ctl(_preprocess, Interop.SpeexDsp.SPEEX_PREPROCESS_SET_AGC, &agc);
        _ = Interop.SpeexDsp.speex_preprocess_ctl(_preprocess, Interop.SpeexDsp.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &suppress);
    }

    public int FrameSamples { get; }

    /// <summary>Suppresses the noise in one frame, in place.</summary>
    public void Process(Span<short> frame)
    {
        if (frame.Length != FrameSamples)
        {
            throw new ArgumentException($"frames are {FrameSamples} samples (got {frame.Length})", nameof(frame));
        }

        fixed (short* samples = frame)
        {
            _ = Interop.SpeexDsp.speex_preprocess_run(_preprocess, samples);
        }
    }

    public void Dispose() => _preprocess.Dispose();
}
