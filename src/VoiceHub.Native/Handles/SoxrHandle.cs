namespace VoiceHub.Native;

/// <summary>A <c>soxr_t</c> resampler.</summary>
public sealed class SoxrHandle : NativeHandle
{
    internal static unsafe SoxrHandle Create(double inputRate, double outputRate, int channels)
    {
        byte* error = null;
        var pointer = Interop.Soxr.soxr_create(inputRate, outputRate, (uint)channels, &error, 0, 0, 0);
        if (pointer == 0)
        {
            throw new NativeEngineException("soxr", "soxr_create", -1, System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)error) ?? "unknown error");
        }

        var handle = new SoxrHandle();
        handle.Initialize(pointer);
        return handle;
    }

    private protected override void Free(nint pointer) => Interop.Soxr.soxr_delete(pointer);
}
