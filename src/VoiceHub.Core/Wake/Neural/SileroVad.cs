using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>
/// Silero VAD (v4, MIT): the probability that each 32 ms frame is speech, from a small recurrent
/// network that tells voices from clatter, music and hum far better than an energy threshold.
/// Inputs: <c>input</c> [1, 512] samples in [-1, 1], <c>sr</c> (16000), the recurrent state
/// <c>h</c>, <c>c</c> [2, 1, 64]; outputs <c>output</c> and the next state. Not thread-safe.
/// </summary>
public sealed class SileroVad : IDisposable
{
    public const string FileName = "silero_vad.onnx";
    public const int FrameSamples = 512;

    private readonly InferenceSession _session;
    private readonly DenseTensor<long> _rate = new(new[] { 16000L }, []);

    private SileroVad(InferenceSession session) => _session = session;

    public static SileroVad Load(string path)
    {
        var session = WakeFeatureModels.OpenSession(path);
        var inputs = session.InputMetadata.Keys.ToHashSet(StringComparer.Ordinal);
        if (!inputs.SetEquals(["input", "sr", "h", "c"]) || !session.OutputMetadata.Keys.ToHashSet(StringComparer.Ordinal).SetEquals(["output", "hn", "cn"]))
        {
            session.Dispose();
            throw new WakeModelException($"{path}: inputs {string.Join(", ", inputs.Order(StringComparer.Ordinal))}, outputs {string.Join(", ", session.OutputMetadata.Keys.Order(StringComparer.Ordinal))}; expected Silero VAD v4's (input, sr, h, c; output, hn, cn)");
        }

        return new SileroVad(session);
    }

    /// <summary>The model that ships in the wake models' folder (the endpointing VAD's and the voice check's).</summary>
    public static SileroVad LoadShipped() => Load(Path.Combine(WakeFeatureModels.DefaultDirectory(), FileName));

    /// <summary>Speech probability of each whole 32 ms frame of <paramref name="audio"/>, starting from silence.</summary>
    public float[] Probabilities(ReadOnlySpan<float> audio)
    {
        var frames = audio.Length / FrameSamples;
        var result = new float[frames];
        var state = new State();
        for (var f = 0; f < frames; f++)
        {
            result[f] = Step(audio.Slice(f * FrameSamples, FrameSamples), state);
        }

        return result;
    }

    /// <summary>A stream's recurrent state (starts as silence).</summary>
    public sealed class State
    {
        /// <summary>Back to silence (a new stream).</summary>
        public void Clear()
        {
            H = new(new float[128], [2, 1, 64]);
            C = new(new float[128], [2, 1, 64]);
        }

        internal DenseTensor<float> H { get; set; } = new(new float[128], [2, 1, 64]);

        internal DenseTensor<float> C { get; set; } = new(new float[128], [2, 1, 64]);
    }

    /// <summary>The speech probability of the next 32 ms frame of a stream.</summary>
    public float Step(ReadOnlySpan<float> frame, State state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var input = new DenseTensor<float>(frame.ToArray(), [1, FrameSamples]);
        using var outputs = _session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input", input),
            NamedOnnxValue.CreateFromTensor("sr", _rate),
            NamedOnnxValue.CreateFromTensor("h", state.H),
            NamedOnnxValue.CreateFromTensor("c", state.C),
        ]);
        var probability = 0f;
        foreach (var output in outputs)
        {
            switch (output.Name)
            {
                case "output":
                    probability = output.AsEnumerable<float>().First();
                    break;
                case "hn":
                    state.H = new DenseTensor<float>(output.AsEnumerable<float>().ToArray(), [2, 1, 64]);
                    break;
                case "cn":
                    state.C = new DenseTensor<float>(output.AsEnumerable<float>().ToArray(), [2, 1, 64]);
                    break;
            }
        }

        return probability;
    }

    /// <summary>How long <paramref name="audio"/> holds speech (frames at or above <paramref name="threshold"/>).</summary>
    public TimeSpan Speech(ReadOnlySpan<float> audio, float threshold = 0.5f) =>
        TimeSpan.FromSeconds(Probabilities(audio).Count(p => p >= threshold) * FrameSamples / 16000.0);

    public void Dispose() => _session.Dispose();
}
