using System.Runtime.InteropServices;

namespace VoiceHub.Native.Audio;

/// <summary>
/// Streaming sample-rate conversion of mono float audio with libsoxr (high quality). Feed blocks
/// as they arrive; call <see cref="Flush"/> at the end of the stream for the filter's tail.
/// </summary>
public sealed unsafe class SoxrResampler : IDisposable
{
    private readonly SoxrHandle _soxr;

    public SoxrResampler(int inputRate, int outputRate)
    {
        InputRate = inputRate;
        OutputRate = outputRate;
        _soxr = SoxrHandle.Create(inputRate, outputRate, 1);
    }

    public int InputRate { get; }

    public int OutputRate { get; }

    public static string Version => Marshal.PtrToStringUTF8((nint)Interop.Soxr.soxr_version()) ?? "unknown";

    /// <summary>An output block large enough for <paramref name="inputSamples"/> input samples.</summary>
    public int MaxOutputFor(int inputSamples) => (int)Math.Ceiling((double)inputSamples * OutputRate / InputRate) + 64;

    /// <summary>Resamples <paramref name="input"/>; returns how many samples were written to <paramref name="output"/>.</summary>
    public int Process(ReadOnlySpan<float> input, Span<float> output)
    {
        nuint consumed = 0;
        nuint produced = 0;
        fixed (float* i = input)
        fixed (float* o = output)
        {
            var error = Interop.Soxr.soxr_process(_soxr, i, (nuint)input.Length, &consumed, o, (nuint)output.Length, &produced);
            Check(error);
        }

        if ((int)consumed != input.Length)
        {
            throw new ArgumentException($"output block of {output.Length} samples is too small for {input.Length} input samples", nameof(output));
        }

        return (int)produced;
    }

    /// <summary>Drains the filter's delay line at the end of a stream (call until it returns 0).</summary>
    public int Flush(Span<float> output)
    {
        var total = 0;
        while (total < output.Length)
        {
            nuint produced = 0;
            fixed (float* o = output[total..])
            {
                Check(Interop.Soxr.soxr_process(_soxr, null, 0, null, o, (nuint)(output.Length - total), &produced));
            }

            if (produced == 0)
            {
                break;
            }

            total += (int)produced;
        }

        return total;
    }

    private static void Check(byte* error)
    {
        if (error is not null)
        {
            throw new NativeEngineException("soxr", "soxr_process", -1, Marshal.PtrToStringUTF8((nint)error) ?? "error");
        }
    }

    public void Dispose() => _soxr.Dispose();
}
