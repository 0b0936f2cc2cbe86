using Microsoft.ML.OnnxRuntime;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>A wake model file that cannot be used (missing, corrupt, wrong shape, made for something else).</summary>
public sealed class WakeModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// openWakeWord's feature models: <c>melspectrogram.onnx</c> (32-bin log-mel frames, 10 ms hop) and
/// <c>embedding_model.onnx</c> (Google's speech embedding: 96 numbers per 80 ms from the last 76 mel
/// frames). Wake heads and our enrolled verifiers score the last 16 embeddings. The sessions are
/// stateless and onnxruntime runs them from several threads at once; each stream keeps its own buffers.
/// </summary>
public sealed class WakeFeatureModels : IDisposable
{
    public const string MelFile = "melspectrogram.onnx";
    public const string EmbeddingFile = "embedding_model.onnx";

    /// <summary>Names this feature version in enrolled wake models: a verifier only fits the features it was trained on.</summary>
    public const string FeatureVersion = "openwakeword-embedding-v1";

    public const int ChunkSamples = 1280;
    public const int MelBins = 32;
    public const int MelWindow = 76;
    public const int EmbeddingSize = 96;
    public const int WindowEmbeddings = 16;
    public const int WindowSize = WindowEmbeddings * EmbeddingSize;

    /// <summary>
    /// The mel model's frames are 32 ms windows (512 samples) at a 10 ms hop: with three hops of the
    /// previous chunk before it, each 80 ms chunk gives 8 new frames (5 for the very first).
    /// </summary>
    internal const int MelContextSamples = 3 * 160;

    private readonly InferenceSession _mel;
    private readonly InferenceSession _embedding;
    private readonly string _melInput;
    private readonly string _embeddingInput;
    private readonly float[] _noisePrefill;

    private WakeFeatureModels(InferenceSession mel, InferenceSession embedding, string directory)
    {
        _mel = mel;
        _embedding = embedding;
        _melInput = mel.InputMetadata.Keys.Single();
        _embeddingInput = embedding.InputMetadata.Keys.Single();
        try
        {
            // Also the check that the two models fit together: 32 mel bins in, 96 numbers out.
            _noisePrefill = NoisePrefill();
        }
        catch (OnnxRuntimeException e)
        {
            throw new WakeModelException($"{directory}: the feature models do not run ({FirstLine(e.Message)})", e);
        }

        if (_noisePrefill.Length != WindowSize)
        {
            throw new WakeModelException($"{Path.Combine(directory, EmbeddingFile)}: gives {_noisePrefill.Length / WindowEmbeddings} numbers per embedding, expected {EmbeddingSize}");
        }
    }

    /// <summary>
    /// Where the feature models are: <c>VOICEHUB_WAKE_MODELS</c>, else <c>wake-models</c> beside the
    /// program (the build copies them there from the set-up's download).
    /// </summary>
    public static string DefaultDirectory() =>
        Environment.GetEnvironmentVariable("VOICEHUB_WAKE_MODELS") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : Path.Combine(AppContext.BaseDirectory, "wake-models");

    /// <summary>Loads both models from a folder; a missing or unusable file is a <see cref="WakeModelException"/> naming it.</summary>
    public static WakeFeatureModels Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var melPath = Path.Combine(directory, MelFile);
        var embeddingPath = Path.Combine(directory, EmbeddingFile);
        var mel = OpenSession(melPath);
        try
        {
            ExpectInput(mel, melPath, [1, -1], [2]);
            var embedding = OpenSession(embeddingPath);
            try
            {
                ExpectInput(embedding, embeddingPath, [-1, MelWindow, MelBins, 1], [4]);
                return new WakeFeatureModels(mel, embedding, directory);
            }
            catch
            {
                embedding.Dispose();
                throw;
            }
        }
        catch
        {
            mel.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One onnxruntime session on one thread: the wake stage is a small, steady load beside the
    /// decoders, and a thread pool per session would fight them for the two to four cores.
    /// </summary>
    internal static InferenceSession OpenSession(string path)
    {
        if (!File.Exists(path))
        {
            throw new WakeModelException($"{path}: no such file");
        }

        var bytes = File.ReadAllBytes(path);
        // An ONNX model is a protobuf whose first field is ir_version (tag 0x08); anything else is not one.
        if (bytes.Length < 16 || bytes[0] != 0x08)
        {
            throw new WakeModelException($"{path}: not an ONNX model (it does not start with an ONNX header)");
        }

        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        try
        {
            return new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new WakeModelException($"{path}: onnxruntime cannot load it ({FirstLine(e.Message)})", e);
        }
    }

    /// <summary>Checks a session has one float input of the given shape (-1: any size).</summary>
    internal static void ExpectInput(InferenceSession session, string path, int[] shape, int[] ranks)
    {
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count < 1)
        {
            throw new WakeModelException($"{path}: expected one input, found {session.InputMetadata.Count}");
        }

        var input = session.InputMetadata.Values.Single();
        var dims = input.Dimensions;
        var fits = input.ElementType == typeof(float) && ranks.Contains(dims.Length) && dims.Length == shape.Length
            && dims.Zip(shape).All(p => p.Second < 0 || p.First < 0 || p.First == p.Second);
        if (!fits)
        {
            throw new WakeModelException($"{path}: input is {Describe(input)}, expected float [{string.Join(", ", shape.Select(d => d < 0 ? "any" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]");
        }
    }

    internal static string Describe(NodeMetadata node) =>
        $"{(node.ElementType == typeof(float) ? "float" : node.ElementType.Name)} [{string.Join(", ", node.Dimensions)}]";

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    /// <summary>A new stream (its own buffers) over these models.</summary>
    public WakeFeatureWindow OpenStream() => new(this, _noisePrefill);

    /// <summary>
    /// The embeddings of 4 s of uniform noise in [-1000, 1000): the reference starts every stream's
    /// window with them, so a head has a full window from the first chunk. A fixed seed keeps runs repeatable.
    /// </summary>
    private float[] NoisePrefill()
    {
        var random = new Random(1);
        var noise = new float[4 * 16000];
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] = random.Next(-1000, 1000);
        }

        var mel = Mel(noise);
        var frames = mel.Length / MelBins;
        var embeddings = new List<float[]>();
        for (var end = MelWindow; end <= frames; end += 8)
        {
            embeddings.Add(Embed(mel.AsSpan((end - MelWindow) * MelBins, MelWindow * MelBins)));
        }

        return [.. embeddings.TakeLast(WindowEmbeddings).SelectMany(e => e)];
    }

    /// <summary>Mel frames (32 bins each, already scaled as x/10 + 2) of raw int16-valued samples.</summary>
    internal float[] Mel(ReadOnlySpan<float> int16Samples)
    {
        var output = Run(_mel, _melInput, int16Samples, [1, int16Samples.Length]);
        for (var i = 0; i < output.Length; i++)
        {
            output[i] = (output[i] / 10f) + 2f;
        }

        return output;
    }

    /// <summary>One 96-number embedding of 76 mel frames.</summary>
    internal float[] Embed(ReadOnlySpan<float> melWindow) => Run(_embedding, _embeddingInput, melWindow, [1, MelWindow, MelBins, 1]);

    /// <summary>One run over a float input (copied into a buffer onnxruntime reads in place), returning the first output.</summary>
    private static float[] Run(InferenceSession session, string input, ReadOnlySpan<float> data, long[] shape)
    {
        var buffer = data.ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(buffer, shape);
        using var results = session.Run(s_runOptions, [input], [value], [session.OutputNames[0]]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static readonly RunOptions s_runOptions = new();

    public void Dispose()
    {
        _mel.Dispose();
        _embedding.Dispose();
    }
}

/// <summary>
/// The reference streaming feature pipeline for one audio stream: 80 ms chunks, each giving new mel
/// frames (from the chunk and 3 frames of context) and one embedding of the last 76 mel frames.
/// Not thread-safe: one stream belongs to one audio loop.
/// </summary>
public sealed class WakeFeatureWindow
{
    private const int MelKeep = 2 * WakeFeatureModels.MelWindow;

    private readonly WakeFeatureModels _models;
    private readonly float[] _samples = new float[WakeFeatureModels.ChunkSamples + WakeFeatureModels.MelContextSamples];
    private readonly float[] _pending = new float[WakeFeatureModels.ChunkSamples];
    private readonly List<float> _mel = [];
    private readonly float[] _window = new float[WakeFeatureModels.WindowSize];
    private readonly float[] _prefill;
    private int _pendingCount;
    private bool _started;

    internal WakeFeatureWindow(WakeFeatureModels models, float[] prefill)
    {
        _models = models;
        _prefill = prefill;
        Reset();
    }

    /// <summary>Embeddings computed so far (one per 80 ms chunk).</summary>
    public long Chunks { get; private set; }

    /// <summary>The last 16 embeddings, oldest first (16 × 96 numbers).</summary>
    public ReadOnlySpan<float> Window => _window;

    /// <summary>Starts the stream again (a new file, or a gap in the audio).</summary>
    public void Reset()
    {
        _mel.Clear();
        for (var i = 0; i < WakeFeatureModels.MelWindow * WakeFeatureModels.MelBins; i++)
        {
            _mel.Add(1f);
        }

        _prefill.CopyTo(_window, 0);
        Array.Clear(_samples);
        _pendingCount = 0;
        _started = false;
        Chunks = 0;
    }

    /// <summary>
    /// Feeds samples in [-1, 1]; calls <paramref name="onChunk"/> after each completed 80 ms chunk,
    /// when <see cref="Window"/> holds the embeddings up to it.
    /// </summary>
    public void Push(ReadOnlySpan<float> samples, Action<WakeFeatureWindow> onChunk)
    {
        ArgumentNullException.ThrowIfNull(onChunk);
        while (!samples.IsEmpty)
        {
            var take = Math.Min(samples.Length, _pending.Length - _pendingCount);
            for (var i = 0; i < take; i++)
            {
                // The models take raw int16 sample values, not [-1, 1].
                _pending[_pendingCount + i] = MathF.Round(Math.Clamp(samples[i] * 32767f, -32768f, 32767f));
            }

            _pendingCount += take;
            samples = samples[take..];
            if (_pendingCount == _pending.Length)
            {
                ProcessChunk();
                _pendingCount = 0;
                onChunk(this);
            }
        }
    }

    private void ProcessChunk()
    {
        // Keep the last three frames' worth of samples before the new chunk as the mel context.
        var context = _samples.Length - _pending.Length;
        Array.Copy(_samples, _pending.Length, _samples, 0, context);
        _pending.CopyTo(_samples, context);
        var input = _started ? _samples.AsSpan() : _samples.AsSpan(context);
        _started = true;

        _mel.AddRange(_models.Mel(input));
        var excess = _mel.Count - (MelKeep * WakeFeatureModels.MelBins);
        if (excess > 0)
        {
            _mel.RemoveRange(0, excess);
        }

        var melWindow = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_mel)[^(WakeFeatureModels.MelWindow * WakeFeatureModels.MelBins)..];
        var embedding = _models.Embed(melWindow);
        Array.Copy(_window, WakeFeatureModels.EmbeddingSize, _window, 0, _window.Length - WakeFeatureModels.EmbeddingSize);
        embedding.CopyTo(_window, _window.Length - WakeFeatureModels.EmbeddingSize);
        Chunks++;
    }
}
