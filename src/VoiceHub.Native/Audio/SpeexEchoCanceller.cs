namespace VoiceHub.Native.Audio;

/// <summary>
/// SpeexDSP's acoustic echo canceller: removes what the hub's own speaker puts into the microphone,
/// given the speaker feed as the reference, then (optionally) suppresses the residual echo and
/// noise with the preprocessor. Works on fixed frames of int16 samples; not thread-safe.
/// </summary>
public sealed unsafe class SpeexEchoCanceller : IDisposable
{
    private readonly SpeexEchoHandle _echo;
    private readonly SpeexPreprocessHandle? _preprocess;

    /// <param name="frameSamples">Samples per call (10 ms at 16 kHz is 160).</param>
    /// <param name="tailSamples">The longest echo path it can model (delay plus room reverberation).</param>
    /// <param name="suppressResidual">Run the preprocessor on the output: residual echo suppression.</param>
    /// <param name="denoise">Also let the preprocessor suppress stationary noise.</param>
    public SpeexEchoCanceller(int frameSamples, int tailSamples, int sampleRate, bool suppressResidual = true, bool denoise = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frameSamples, 32);
        ArgumentOutOfRangeException.ThrowIfLessThan(tailSamples, frameSamples);
        FrameSamples = frameSamples;
        _echo = SpeexEchoHandle.Create(frameSamples, tailSamples, sampleRate);
        if (!suppressResidual)
        {
            return;
        }

        try
        {
            _preprocess = SpeexPreprocessHandle.Create(frameSamples, sampleRate);
            _preprocess.LinkEcho(_echo);
            var on = denoise ? 1 : 0;
            _ = Interop.SpeexDsp.speex_preprocess_ctl(_preprocess, Interop.SpeexDsp.SPEEX_PREPROCESS_SET_DENOISE, &on);
        }
        catch
        {
            _echo.Dispose();
            throw;
        }
    }

    public int FrameSamples { get; }

    /// <summary>One frame: what the microphone heard and what the speaker played at that moment, into the cleaned frame.</summary>
    public void Process(ReadOnlySpan<short> microphone, ReadOnlySpan<short> speaker, Span<short> output)
    {
        if (microphone.Length != FrameSamples || speaker.Length != FrameSamples || output.Length != FrameSamples)
        {
            throw new ArgumentException($"frames are {FrameSamples} samples (got {microphone.Length}, {speaker.Length}, {output.Length})");
        }

        fixed (short* mic = microphone)
        fixed (short* play = speaker)
        fixed (short* cleaned = output)
        {
            Interop.SpeexDsp.speex_echo_cancellation(_echo, mic, play, cleaned);
            if (_preprocess is not null)
            {
                _ = Interop.SpeexDsp.speex_preprocess_run(_preprocess, cleaned);
            }
        }
    }

    /// <summary>Forgets what the filter learned of the echo path (a new path: learning it afresh is faster than unlearning the old).</summary>
    public void Reset() => Interop.SpeexDsp.speex_echo_state_reset(_echo);

    public void Dispose()
    {
        _preprocess?.Dispose();
        _echo.Dispose();
    }
}
