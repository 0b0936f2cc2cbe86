using System.Globalization;

namespace VoiceHub.Native.ModelFiles;

/// <summary>Hyper-parameters at the head of a whisper.cpp ggml model file.</summary>
public sealed record WhisperHyperParameters(
    int VocabularySize, int AudioContext, int AudioState, int AudioHeads, int AudioLayers,
    int TextContext, int TextState, int TextHeads, int TextLayers, int MelBands, int FileType)
{
    /// <summary>"tiny", "base", "small", "medium" or "large", as whisper.cpp names models by encoder depth.</summary>
    public string SizeName => AudioLayers switch
    {
        4 => "tiny",
        6 => "base",
        12 => "small",
        24 => "medium",
        32 => "large",
        _ => $"{AudioLayers}-layer",
    };

    public bool IsMultilingual => VocabularySize >= 51865;
}

/// <summary>
/// A whisper.cpp model file (ggml format, <c>ggml-*.bin</c>), read and checked in managed code:
/// magic, plausible hyper-parameters, mel filters, vocabulary, and every tensor's name, shape,
/// type and extent against what whisper.cpp will allocate for these hyper-parameters.
/// </summary>
public sealed class WhisperModelFile
{
    public const uint Magic = 0x67676d6c; // "ggml"
    private const int QuantizationVersionFactor = 1000;

    // ggml_ftype -> ggml_type of the weight matrices (ggml_ftype_to_ggml_type; anything else asserts).
    private static readonly Dictionary<int, int> s_weightTypeByFileType = new()
    {
        [0] = 0, [1] = 1, [2] = 2, [3] = 3, [7] = 8, [8] = 6, [9] = 7, [10] = 10, [11] = 11, [12] = 12, [13] = 13,
        [14] = 14, [15] = 16, [16] = 17, [17] = 18, [18] = 19, [19] = 20, [20] = 21, [21] = 22, [22] = 23,
        [23] = 29, [24] = 30, [25] = 39, [26] = 40, [27] = 41,
    };

    private WhisperModelFile(string path, WhisperHyperParameters hyperParameters, int tensorCount, GgmlType weightType)
    {
        Path = path;
        HyperParameters = hyperParameters;
        TensorCount = tensorCount;
        WeightType = weightType;
    }

    public string Path { get; }

    public WhisperHyperParameters HyperParameters { get; }

    public int TensorCount { get; }

    public GgmlType WeightType { get; }

    /// <summary>True for whisper.cpp's test models, which carry no weights at all (whisper.cpp accepts them).</summary>
    public bool IsPlaceholder => TensorCount == 0;

    public static WhisperModelFile Read(string path)
    {
        using var reader = new BoundedReader(path);
        if (reader.Length < 4 + (11 * 4))
        {
            throw reader.Error($"truncated: {reader.Length} bytes, a whisper model header needs 48");
        }

        var magic = reader.ReadUInt32("magic");
        if (magic != Magic)
        {
            throw reader.Error(magic == GgufFile.Magic
                ? "a GGUF file, not a whisper.cpp ggml model (is it a language model?)"
                : $"wrong magic 0x{magic:x8}: not a whisper.cpp ggml model");
        }

        var h = new WhisperHyperParameters(
            reader.ReadInt32("n_vocab"), reader.ReadInt32("n_audio_ctx"), reader.ReadInt32("n_audio_state"),
            reader.ReadInt32("n_audio_head"), reader.ReadInt32("n_audio_layer"), reader.ReadInt32("n_text_ctx"),
            reader.ReadInt32("n_text_state"), reader.ReadInt32("n_text_head"), reader.ReadInt32("n_text_layer"),
            reader.ReadInt32("n_mels"), reader.ReadInt32("ftype"));
        CheckHyperParameters(reader, h);
        var fileType = h.FileType % QuantizationVersionFactor;
        if (!s_weightTypeByFileType.TryGetValue(fileType, out var weightTypeId) || GgmlTypes.Find(weightTypeId, GgmlTypes.WhisperTypeCount) is not { } weightType)
        {
            throw reader.Error($"ftype {h.FileType} is not a weight type whisper.cpp knows");
        }

        var melCount = reader.ReadInt32("mel filter count");
        var fftCount = reader.ReadInt32("mel filter width");
        if (melCount != h.MelBands || fftCount is <= 0 or > 4096)
        {
            throw reader.Error($"mel filters are {melCount}x{fftCount}, expected {h.MelBands} bands");
        }

        reader.Skip((long)melCount * fftCount * sizeof(float), "mel filters");
        var vocabularyCount = reader.ReadInt32("vocabulary size");
        if (vocabularyCount < 0 || vocabularyCount > h.VocabularySize)
        {
            throw reader.Error($"vocabulary lists {vocabularyCount} tokens, the header says {h.VocabularySize}");
        }

        for (var i = 0; i < vocabularyCount; i++)
        {
            var length = reader.ReadUInt32("token length");
            if (length > 1024)
            {
                throw reader.Error($"token {i} claims {length} bytes");
            }

            reader.Skip(length, $"token {i}");
        }

        var expected = ExpectedTensors(h, weightType);
        var seen = 0;
        while (reader.Remaining > 0)
        {
            var dimensions = reader.ReadInt32("tensor dimension count");
            var nameLength = reader.ReadInt32("tensor name length");
            var typeId = reader.ReadInt32("tensor type");
            if (dimensions is < 1 or > 4 || nameLength is < 1 or > 256)
            {
                throw reader.Error($"tensor header at byte {reader.Position - 12} is corrupt ({dimensions} dimensions, name of {nameLength} bytes)");
            }

            var shape = new long[3] { 1, 1, 1 };
            long elements = 1;
            for (var d = 0; d < dimensions; d++)
            {
                var extent = reader.ReadInt32("tensor shape");
                if (extent <= 0)
                {
                    throw reader.Error($"tensor at byte {reader.Position} has extent {extent}");
                }

                if (d < 3)
                {
                    shape[d] = extent;
                }

                elements *= extent;
            }

            var name = reader.ReadUtf8(nameLength, "tensor name");
            if (!expected.Remove(name, out var want))
            {
                throw reader.Error($"unexpected tensor '{name}' (unknown, or listed twice) for a {h.SizeName} model");
            }

            if (shape[0] != want.Shape[0] || shape[1] != want.Shape[1] || shape[2] != want.Shape[2])
            {
                throw reader.Error($"tensor '{name}' has shape [{Shape(shape)}], the hyper-parameters need [{Shape(want.Shape)}]");
            }

            var fileElementType = GgmlTypes.Find(typeId, GgmlTypes.WhisperTypeCount)
                ?? throw reader.Error($"tensor '{name}' has unknown type id {typeId}");
            var bytes = want.Type.ByteSize(want.Shape)!.Value;
            if (elements * fileElementType.TypeSize / want.Type.BlockSize != bytes)
            {
                throw reader.Error($"tensor '{name}' is stored as {fileElementType.Name}, whisper.cpp expects {want.Type.Name}");
            }

            reader.Skip(bytes, $"data of tensor '{name}'");
            seen++;
        }

        if (seen > 0 && expected.Count > 0)
        {
            throw reader.Error($"truncated or incomplete: {expected.Count} tensors missing, e.g. '{expected.Keys.First()}'");
        }

        // A file without tensors (whisper.cpp's own test models) leaves nothing to bound the
        // hyper-parameters by, and whisper.cpp allocates and computes from them alone: accept it only
        // with the exact dimensions of a published model size.
        if (seen == 0 && !IsPublishedShape(h))
        {
            throw reader.Error($"has no tensors, and its hyper-parameters ({h.AudioState} state, {h.AudioHeads} heads, {h.AudioLayers}/{h.TextLayers} layers) are not those of a published whisper model; the download is incomplete");
        }

        return new WhisperModelFile(path, h, seen, weightType);
    }

    private static void CheckHyperParameters(BoundedReader reader, WhisperHyperParameters h)
    {
        static bool InRange(int value, int low, int high) => value >= low && value <= high;
        var problems = new List<string>();
        if (!InRange(h.VocabularySize, 1000, 60000)) problems.Add($"n_vocab {h.VocabularySize}");
        // Every whisper model (OpenAI's, distil-whisper, turbo, fine-tunes) has 30 s of audio context and
        // 448 text positions; whisper.cpp sizes its buffers from these and crashes on smaller ones.
        if (h.AudioContext != 1500) problems.Add($"n_audio_ctx {h.AudioContext} (always 1500)");
        if (h.TextContext != 448) problems.Add($"n_text_ctx {h.TextContext} (always 448)");
        if (!InRange(h.AudioLayers, 1, 32) || !InRange(h.TextLayers, 1, 32)) problems.Add($"{h.AudioLayers}/{h.TextLayers} layers (1 to 32)");
        if (h.MelBands is not (80 or 128)) problems.Add($"n_mels {h.MelBands}");
        var headsValid = InRange(h.AudioHeads, 1, 64) && InRange(h.TextHeads, 1, 64);
        if (!headsValid) problems.Add($"{h.AudioHeads}/{h.TextHeads} heads");
        if (!InRange(h.AudioState, 1, 8192) || h.AudioState != h.TextState) problems.Add($"state {h.AudioState}/{h.TextState}");
        else if (headsValid && (h.AudioState % h.AudioHeads != 0 || h.TextState % h.TextHeads != 0)) problems.Add($"state {h.AudioState} not divisible by heads"); // found by AFL: 0 heads divided by zero
        if (problems.Count > 0)
        {
            throw reader.Error($"impossible hyper-parameters: {string.Join(", ", problems)}");
        }
    }

    // (state, heads, encoder layers) of tiny, base, small, medium and large (large-v3-turbo and distil models only cut decoder layers).
    private static readonly (int State, int Heads, int Layers)[] s_publishedShapes = [(384, 6, 4), (512, 8, 6), (768, 12, 12), (1024, 16, 24), (1280, 20, 32)];

    private static bool IsPublishedShape(WhisperHyperParameters h) =>
        s_publishedShapes.Contains((h.AudioState, h.AudioHeads, h.AudioLayers)) && h.TextHeads == h.AudioHeads && h.TextLayers <= h.AudioLayers
        && h.VocabularySize is 51864 or 51865 or 51866;

    private static string Shape(long[] shape) => string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The tensors whisper.cpp allocates for these hyper-parameters (whisper_model_load).</summary>
    internal static Dictionary<string, (long[] Shape, GgmlType Type)> ExpectedTensors(WhisperHyperParameters h, GgmlType wtype)
    {
        var f32 = GgmlTypes.F32;
        var vtype = wtype == f32 ? f32 : GgmlTypes.F16;
        var a = (long)h.AudioState;
        var t = (long)h.TextState;
        var tensors = new Dictionary<string, (long[] Shape, GgmlType Type)>(StringComparer.Ordinal)
        {
            ["encoder.positional_embedding"] = ([a, h.AudioContext, 1], f32),
            ["encoder.conv1.weight"] = ([3, h.MelBands, a], vtype),
            ["encoder.conv1.bias"] = ([1, a, 1], f32),
            ["encoder.conv2.weight"] = ([3, a, a], vtype),
            ["encoder.conv2.bias"] = ([1, a, 1], f32),
            ["encoder.ln_post.weight"] = ([a, 1, 1], f32),
            ["encoder.ln_post.bias"] = ([a, 1, 1], f32),
            ["decoder.positional_embedding"] = ([t, h.TextContext, 1], f32),
            ["decoder.token_embedding.weight"] = ([t, h.VocabularySize, 1], wtype),
            ["decoder.ln.weight"] = ([t, 1, 1], f32),
            ["decoder.ln.bias"] = ([t, 1, 1], f32),
        };

        void Block(string prefix, long n, bool cross)
        {
            tensors[$"{prefix}.mlp_ln.weight"] = ([n, 1, 1], f32);
            tensors[$"{prefix}.mlp_ln.bias"] = ([n, 1, 1], f32);
            tensors[$"{prefix}.mlp.0.weight"] = ([n, 4 * n, 1], wtype);
            tensors[$"{prefix}.mlp.0.bias"] = ([4 * n, 1, 1], f32);
            tensors[$"{prefix}.mlp.2.weight"] = ([4 * n, n, 1], wtype);
            tensors[$"{prefix}.mlp.2.bias"] = ([n, 1, 1], f32);
            foreach (var attention in cross ? new[] { "attn", "cross_attn" } : ["attn"])
            {
                tensors[$"{prefix}.{attention}_ln.weight"] = ([n, 1, 1], f32);
                tensors[$"{prefix}.{attention}_ln.bias"] = ([n, 1, 1], f32);
                tensors[$"{prefix}.{attention}.query.weight"] = ([n, n, 1], wtype);
                tensors[$"{prefix}.{attention}.query.bias"] = ([n, 1, 1], f32);
                tensors[$"{prefix}.{attention}.key.weight"] = ([n, n, 1], wtype);
                tensors[$"{prefix}.{attention}.value.weight"] = ([n, n, 1], wtype);
                tensors[$"{prefix}.{attention}.value.bias"] = ([n, 1, 1], f32);
                tensors[$"{prefix}.{attention}.out.weight"] = ([n, n, 1], wtype);
                tensors[$"{prefix}.{attention}.out.bias"] = ([n, 1, 1], f32);
            }
        }

        for (var i = 0; i < h.AudioLayers; i++)
        {
            Block($"encoder.blocks.{i}", a, cross: false);
        }

        for (var i = 0; i < h.TextLayers; i++)
        {
            Block($"decoder.blocks.{i}", t, cross: true);
        }

        return tensors;
    }
}
