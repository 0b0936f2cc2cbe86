
namespace VoiceHub.Native;

/// <summary>A <c>whisper_context</c>: the loaded model weights, shared by all states.</summary>
public sealed class WhisperContextHandle : NativeHandle
{
    private protected override void Free(nint pointer) => Interop.Whisper.whisper_free(pointer);
}

/// <summary>A <c>whisper_state</c>: the per-run buffers (KV cache, mel, results) of one context.</summary>
public sealed class WhisperStateHandle : NativeHandle
{
    internal static WhisperStateHandle Create(WhisperContextHandle context)
    {
        var state = new WhisperStateHandle();
        var pointer = Interop.Whisper.whisper_init_state(context);
        if (pointer == 0)
        {
            throw new NativeEngineException("whisper", "whisper_init_state", -1, "could not allocate a whisper state (out of memory?)");
        }

        state.Initialize(pointer);
        state.SetParent(context);
        return state;
    }

    private protected override void Free(nint pointer) => Interop.Whisper.whisper_free_state(pointer);
}
