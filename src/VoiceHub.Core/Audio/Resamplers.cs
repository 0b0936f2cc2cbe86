using NAudio.Dsp;
using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Audio;

/// <summary>Which sample-rate converter turns 44.1/48 kHz input into the engines' 16 kHz.</summary>
public enum ResamplerKind
{
    /// <summary>libsoxr (our binding), high quality: what the appliance uses.</summary>
    Soxr,

    /// <summary>NAudio.Core's WDL resampler (managed, windowed sinc), kept to measure against.</summary>
    Wdl,
}

/// <summary>A streaming mono sample-rate converter.</summary>
public interface IResampler : IDisposable
{
    /// <summary>Output room <see cref="Process"/> may need for this many input samples.</summary>
    int MaxOutputFor(int inputSamples);

    /// <summary>Converts a block; returns the samples written (the converter may hold some back).</summary>
    int Process(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Samples still held back at the end of the stream; 0 when none are left.</summary>
    int Flush(Span<float> output);
}

public static class Resamplers
{
    public static IResampler Create(ResamplerKind kind, int inputRate, int outputRate) => kind switch
    {
        ResamplerKind.Wdl => new WdlMonoResampler(inputRate, outputRate),
        _ => new SoxrMonoResampler(inputRate, outputRate),
    };

    private sealed class SoxrMonoResampler(int inputRate, int outputRate) : IResampler
    {
        private readonly SoxrResampler _soxr = new(inputRate, outputRate);

        public int MaxOutputFor(int inputSamples) => _soxr.MaxOutputFor(inputSamples);

        public int Process(ReadOnlySpan<float> input, Span<float> output) => _soxr.Process(input, output);

        public int Flush(Span<float> output) => _soxr.Flush(output);

        public void Dispose() => _soxr.Dispose();
    }

    /// <summary>NAudio's port of Cockos WDL's resampler in sinc mode, fed by input (feed mode).</summary>
    private sealed class WdlMonoResampler : IResampler
    {
        private readonly WdlResampler _wdl = new();
        private readonly int _inputRate;
        private readonly int _outputRate;
        private bool _flushed;

        public WdlMonoResampler(int inputRate, int outputRate)
        {
            _inputRate = inputRate;
            _outputRate = outputRate;
            _wdl.SetMode(true, 0, true, 64, 32);   // interpolate, sinc filter of 64 taps
            _wdl.SetFilterParms(0.693f, 0.707f);
            _wdl.SetFeedMode(true);
            _wdl.SetRates(inputRate, outputRate);
        }

        public int MaxOutputFor(int inputSamples) => (int)Math.Ceiling((double)inputSamples * _outputRate / _inputRate) + 64;

        public int Process(ReadOnlySpan<float> input, Span<float> output)
        {
            var needed = _wdl.ResamplePrepare(input.Length, 1, out var buffer);
            input[..Math.Min(needed, input.Length)].CopyTo(buffer);
            return _wdl.ResampleOut(output, input.Length, output.Length, 1);
        }

        /// <summary>The filter's latency in output samples, pushed out with silence once.</summary>
        public int Flush(Span<float> output)
        {
            if (_flushed)
            {
                return 0;
            }

            _flushed = true;
            var latencySeconds = _wdl.GetCurrentLatency();
            Span<float> silence = stackalloc float[Math.Max(1, (int)Math.Ceiling(latencySeconds * _inputRate) + 1)];
            var produced = Process(silence, output);
            return Math.Min(produced, Math.Min((int)Math.Ceiling(latencySeconds * _outputRate), output.Length));
        }

        public void Dispose()
        {
        }
    }
}
