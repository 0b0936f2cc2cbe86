namespace VoiceHub.Native;

/// <summary>A <c>snd_pcm_t</c>: an open capture or playback stream.</summary>
public sealed class AlsaPcmHandle : NativeHandle
{
    internal static AlsaPcmHandle Adopt(nint pointer)
    {
        var handle = new AlsaPcmHandle();
        handle.Initialize(pointer);
        return handle;
    }

    private protected override void Free(nint pointer) => _ = Interop.Asound.snd_pcm_close(pointer);
}
