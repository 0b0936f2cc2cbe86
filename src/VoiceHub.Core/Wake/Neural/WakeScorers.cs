using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>Scores a window of 16 embeddings (16 × 96, oldest first) for one wake phrase: 0 (not it) to 1. Not thread-safe.</summary>
public interface IWakeScorer : IDisposable
{
    string Phrase { get; }

    /// <summary>The score from which the phrase counts as heard, as the model's maker chose it.</summary>
    double DefaultThreshold { get; }

    float Score(ReadOnlySpan<float> window);
}

/// <summary>Opens a wake model by its file type: an enrolled <c>.wake</c> verifier or an openWakeWord-style <c>.onnx</c> head.</summary>
public static class WakeModels
{
    public static IWakeScorer Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".wake" => EnrolledWakeModel.Load(path),
            ".onnx" => OnnxWakeHead.Load(path),
            _ => throw new WakeModelException($"{path}: a wake model is a .wake file (voicehub wake enroll) or an openWakeWord .onnx head"),
        };
    }
}

/// <summary>
/// A pretrained openWakeWord head (input [1, 16, 96], output one score). Its phrase is its file
/// name ("hey_jarvis_v0.1.onnx" says "hey jarvis"). openWakeWord's pretrained heads are licensed
/// CC BY-NC-SA 4.0: a user may install one for their own use; the appliance does not ship them.
/// </summary>
public sealed class OnnxWakeHead : IWakeScorer
{
    private readonly InferenceSession _session;
    private readonly string _input;
    private readonly float[] _buffer = new float[WakeFeatureModels.WindowSize];

    private OnnxWakeHead(InferenceSession session, string phrase)
    {
        _session = session;
        _input = session.InputMetadata.Keys.Single();
        Phrase = phrase;
    }

    public string Phrase { get; }

    public double DefaultThreshold => 0.5;

    public static OnnxWakeHead Load(string path)
    {
        var session = WakeFeatureModels.OpenSession(path);
        try
        {
            WakeFeatureModels.ExpectInput(session, path, [-1, WakeFeatureModels.WindowEmbeddings, WakeFeatureModels.EmbeddingSize], [3]);
            var output = session.OutputMetadata.Values.First();
            if (output.ElementType != typeof(float) || output.Dimensions.Where(d => d > 0).Aggregate(1, (a, b) => a * b) != 1)
            {
                throw new WakeModelException($"{path}: output is {WakeFeatureModels.Describe(output)}, expected one float score");
            }

            var head = new OnnxWakeHead(session, PhraseFromFileName(path));
            try
            {
                // Sizes left open (-1) pass the shape check; a head that cannot score our window
                // must fail here, where the phrase can take over, not on the audio loop.
                _ = head.Score(new float[WakeFeatureModels.WindowEmbeddings * WakeFeatureModels.EmbeddingSize]);
            }
            catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException) // InvalidOperation: no score in its output
            {
                throw new WakeModelException($"{path}: cannot score a window of {WakeFeatureModels.WindowEmbeddings} embeddings ({e.Message.Split('\n')[0]})");
            }

            return head;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>"hey_jarvis_v0.1.onnx" → "hey jarvis".</summary>
    internal static string PhraseFromFileName(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var version = name.LastIndexOf("_v", StringComparison.Ordinal);
        if (version > 0 && version + 2 < name.Length && char.IsDigit(name[version + 2]))
        {
            name = name[..version];
        }

        return WakePhraseText.Normalize(name.Replace('_', ' ').Replace('-', ' '));
    }

    public float Score(ReadOnlySpan<float> window)
    {
        window.CopyTo(_buffer);
        var tensor = new DenseTensor<float>(_buffer, [1, WakeFeatureModels.WindowEmbeddings, WakeFeatureModels.EmbeddingSize]);
        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(_input, tensor)]);
        return results[0].AsEnumerable<float>().First();
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// A personal wake verifier made by <c>voicehub wake enroll</c>: a small network (standardised
/// window → one hidden ReLU layer → logistic score) over the embedding window. Saved as JSON with
/// the phrase and the feature version it was trained on, so a model for other features is refused.
/// </summary>
public sealed class EnrolledWakeModel : IWakeScorer
{
    public const string Format = "voicehub-wake";
    public const int FormatVersion = 1;

    private readonly int _hiddenUnits;

    public EnrolledWakeModel(string phrase, float[] mean, float[] scale, float[] hiddenWeights, float[] hiddenBias, float[] outputWeights, float outputBias, double threshold)
    {
        ArgumentNullException.ThrowIfNull(hiddenBias);
        Phrase = WakePhraseText.Normalize(phrase);
        Mean = mean;
        Scale = scale;
        HiddenWeights = hiddenWeights;
        HiddenBias = hiddenBias;
        OutputWeights = outputWeights;
        OutputBias = outputBias;
        DefaultThreshold = threshold;
        _hiddenUnits = hiddenBias.Length;
    }

    public string Phrase { get; }

    public double DefaultThreshold { get; }

    internal float[] Mean { get; }

    internal float[] Scale { get; }

    /// <summary>Hidden × window, row-major.</summary>
    internal float[] HiddenWeights { get; }

    internal float[] HiddenBias { get; }

    internal float[] OutputWeights { get; }

    internal float OutputBias { get; }

    public float Score(ReadOnlySpan<float> window)
    {
        var size = WakeFeatureModels.WindowSize;
        Span<float> input = stackalloc float[size];
        for (var i = 0; i < size; i++)
        {
            input[i] = (window[i] - Mean[i]) * Scale[i];
        }

        var logit = OutputBias;
        for (var h = 0; h < _hiddenUnits; h++)
        {
            var sum = HiddenBias[h] + System.Numerics.Tensors.TensorPrimitives.Dot(HiddenWeights.AsSpan(h * size, size), input);
            logit += OutputWeights[h] * Math.Max(0, sum);
        }

        return 1f / (1f + MathF.Exp(-logit));
    }

    public void Save(string path)
    {
        var file = new FileModel(Format, FormatVersion, Phrase, WakeFeatureModels.FeatureVersion, DefaultThreshold, _hiddenUnits,
            Encode(Mean), Encode(Scale), Encode(HiddenWeights), Encode(HiddenBias), Encode(OutputWeights), OutputBias);
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temporary, JsonSerializer.Serialize(file, WakeJson.Default.FileModel));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw new WakeModelException($"{path}: cannot be written ({e.Message})", e);
        }
    }

    public static EnrolledWakeModel Load(string path)
    {
        FileModel? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllText(path), WakeJson.Default.FileModel);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new WakeModelException($"{path}: no such file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WakeModelException($"{path}: cannot be read ({e.Message})", e);
        }
        catch (JsonException e)
        {
            throw new WakeModelException($"{path}: not a wake model ({e.Message.Split('\n')[0]})", e);
        }

        if (file is null || file.Format != Format)
        {
            throw new WakeModelException($"{path}: not a wake model (no \"format\": \"{Format}\")");
        }

        if (file.Version != FormatVersion)
        {
            throw new WakeModelException($"{path}: wake model version {file.Version}; this VoiceHub reads version {FormatVersion} (enroll again)");
        }

        if (file.Features != WakeFeatureModels.FeatureVersion)
        {
            throw new WakeModelException($"{path}: made for features \"{file.Features}\", this VoiceHub computes \"{WakeFeatureModels.FeatureVersion}\" (enroll again)");
        }

        if (string.IsNullOrWhiteSpace(WakePhraseText.Normalize(file.Phrase ?? string.Empty)) || file.Hidden is < 1 or > 1024 || file.Threshold is not (>= 0 and <= 1))
        {
            throw new WakeModelException($"{path}: the wake model has no phrase, a layer size outside 1..1024 or a threshold outside 0..1");
        }

        var size = WakeFeatureModels.WindowSize;
        try
        {
            return new EnrolledWakeModel(file.Phrase!, Decode(file.Mean, size), Decode(file.Scale, size), Decode(file.HiddenWeights, size * file.Hidden),
                Decode(file.HiddenBias, file.Hidden), Decode(file.OutputWeights, file.Hidden), file.OutputBias, file.Threshold);
        }
        catch (FormatException e)
        {
            throw new WakeModelException($"{path}: corrupt weights ({e.Message})", e);
        }
    }

    private static string Encode(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return Convert.ToBase64String(bytes);
    }

    private static float[] Decode(string? base64, int count)
    {
        var bytes = Convert.FromBase64String(base64 ?? throw new FormatException("a weight array is missing"));
        if (bytes.Length != count * 4)
        {
            throw new FormatException($"{bytes.Length / 4} numbers where {count} belong");
        }

        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
            if (!float.IsFinite(values[i]))
            {
                throw new FormatException("a weight is not a finite number");
            }
        }

        return values;
    }

    public void Dispose()
    {
    }

    internal sealed record FileModel(
        string Format, int Version, string Phrase, string Features, double Threshold, int Hidden,
        string Mean, string Scale, string HiddenWeights, string HiddenBias, string OutputWeights, float OutputBias);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(EnrolledWakeModel.FileModel))]
internal sealed partial class WakeJson : JsonSerializerContext;
