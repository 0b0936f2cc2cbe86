namespace VoiceHub.Native;

/// <summary>
/// A <c>SpeexPreprocessState</c> (noise suppression, AGC, residual echo suppression). Linked to an
/// echo canceller, it holds a reference on it: the echo state outlives the preprocessor that reads it.
/// </summary>
public sealed class SpeexPreprocessHandle : NativeHandle
{
    internal static SpeexPreprocessHandle Create(int frameSize, int sampleRate)
    {
        var pointer = Interop.SpeexDsp.speex_preprocess_state_init(frameSize, sampleRate);
        if (pointer == 0)
        {
            throw new NativeEngineException("speexdsp", "speex_preprocess_state_init", -1, $"no preprocessor for {frameSize}-sample frames at {sampleRate} Hz");
        }

        var handle = new SpeexPreprocessHandle();
        handle.Initialize(pointer);
        return handle;
    }

    /// <summary>Suppresses what the echo canceller left of the speaker (its state is read on every frame).</summary>
    internal unsafe void LinkEcho(SpeexEchoHandle echo)
    {
        SetParent(echo);
        var state = echo.DangerousGetHandle();
        _ = Interop.SpeexDsp.speex_preprocess_ctl(this, Interop.SpeexDsp.SPEEX_PREPROCESS_SET_ECHO_STATE, (void*)state);
    }

    private protected override void Free(nint pointer) => Interop.SpeexDsp.speex_preprocess_state_destroy(pointer);
}
