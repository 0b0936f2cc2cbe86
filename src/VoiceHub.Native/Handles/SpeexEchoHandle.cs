namespace VoiceHub.Native;

/// <summary>A <c>SpeexEchoState</c>: the adaptive filter that models the speaker-to-microphone path.</summary>
public sealed class SpeexEchoHandle : NativeHandle
{
    internal static unsafe SpeexEchoHandle Create(int frameSize, int filterLength, int sampleRate)
    {
        var pointer = Interop.SpeexDsp.speex_echo_state_init(frameSize, filterLength);
        if (pointer == 0)
        {
            throw new NativeEngineException("speexdsp", "speex_echo_state_init", -1, $"no echo canceller for {frameSize}-sample frames and a {filterLength}-sample filter");
        }

        var handle = new SpeexEchoHandle();
        handle.Initialize(pointer);
        var rate = sampleRate;
        _ = Interop.SpeexDsp.speex_echo_ctl(handle, Interop.SpeexDsp.SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
        return handle;
    }

    private protected override void Free(nint pointer) => Interop.SpeexDsp.speex_echo_state_destroy(pointer);
}
