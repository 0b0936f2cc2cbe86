using VoiceHub.Native.ModelFiles;

namespace VoiceHub.Core.Models;

/// <summary>
/// The memory a model takes once loaded and in use, estimated from its header alone, so the tier
/// ladder can decide whether the next rung may be preloaded beside the current one. The terms and
/// constants come from peak RSS measured by <c>bench slm</c> and <c>bench stt</c> on models of the
/// catalog's shapes (see the README), which print the estimate beside each measurement:
/// <list type="bullet">
/// <item>the file: weights are memory-mapped and every page is read;</item>
/// <item>llama.cpp: the KV cache (F16) and the attention scores of one batch (F32, without flash
/// attention), Q4_0 and Q4_K weights a second time when the file is mapped (llama.cpp repacks them
/// for the CPU's wide dot products, and the mapped pages stay resident; not the token embedding,
/// which is only looked up), and per token of the vocabulary the tokenizer's tables on both sides
/// of the binding;</item>
/// <item>whisper.cpp: its caches and buffers, which grow with the model's width.</item>
/// </list>
/// </summary>
public static class ModelFootprint
{
    private const double MiB = 1024 * 1024;

    // Fitted on SmolLM2-360M and Qwen2.5-0.5B (bench slm, 2026-11-29); Llama-3.2-1B was the check.
    private const double LlamaBaseMiB = 33.5;
    private const double LlamaPerVocabularyTokenMiB = 0.000885;

    // Fitted on tiny.en, base.en and small.en (bench stt, 2026-11-29).
    private const double WhisperBaseMiB = 91;
    private const double WhisperPerStateMiB = 0.29;

    /// <summary>Tensor types llama.cpp's CPU backend repacks into an interleaved copy when it loads them.</summary>
    public static bool IsRepacked(GgmlType type) => type.Name is "q4_0" or "q4_K" or "iq4_nl";

    /// <summary>Estimated resident bytes of the model at <paramref name="path"/> with the given context and batch, loaded as <see cref="Language.LanguageModel.Load"/> loads it.</summary>
    public static long EstimateBytes(string path, int contextTokens = 2048, int batchTokens = 512)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = new FileInfo(path).Length;
        uint magic;
        using (var stream = File.OpenRead(path))
        {
            Span<byte> head = stackalloc byte[4];
            stream.ReadExactly(head);
            magic = BitConverter.ToUInt32(head);
        }

        return magic switch
        {
            GgufFile.Magic => file + LanguageModelExtra(GgufFile.Read(path), contextTokens, batchTokens),
            WhisperModelFile.Magic => file + (long)((WhisperBaseMiB + (WhisperPerStateMiB * WhisperModelFile.Read(path).HyperParameters.AudioState)) * MiB),
            _ => file,
        };
    }

    private static long LanguageModelExtra(GgufFile gguf, int contextTokens, int batchTokens)
    {
        var arch = gguf.Architecture;
        long Integer(string key, long fallback) => gguf.Metadata.TryGetValue($"{arch}.{key}", out var value) ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var layers = Integer("block_count", 0);
        var embedding = Integer("embedding_length", 0);
        var heads = Math.Max(1, Integer("attention.head_count", 1));
        var kvHeads = Integer("attention.head_count_kv", heads);
        var vocabulary = gguf.Metadata.TryGetValue("tokenizer.ggml.tokens", out var tokens) && tokens is GgufArray array ? array.Count : 0;
        var kvCache = 2L * contextTokens * layers * kvHeads * (embedding / heads) * 2;
        var scores = (long)batchTokens * contextTokens * heads * 4;
        // Mapped only when the weights are mostly of other types: then the few repacked ones count twice.
        var repacked = IsRepacked(gguf.DominantTensorType) ? 0 : gguf.Tensors.Where(t => IsRepacked(t.Type) && t.Name != "token_embd.weight").Sum(t => t.ByteSize);
        var tables = (long)((LlamaBaseMiB + (LlamaPerVocabularyTokenMiB * vocabulary)) * MiB);
        return kvCache + scores + repacked + tables;
    }
}
