namespace VoiceHub.Native;

/// <summary>A <c>ps_decoder_t</c> (it holds its own reference to its configuration).</summary>
public sealed class PocketsphinxHandle : NativeHandle
{
    internal static PocketsphinxHandle Create(nint config)
    {
        var pointer = Interop.Pocketsphinx.ps_init(config);
        if (pointer == 0)
        {
            throw new NativeEngineException("pocketsphinx", "ps_init", -1, "could not create a decoder (acoustic model or dictionary unreadable?)");
        }

        var handle = new PocketsphinxHandle();
        handle.Initialize(pointer);
        return handle;
    }

    private protected override void Free(nint pointer) => _ = Interop.Pocketsphinx.ps_free(pointer); // returns the remaining reference count
}
