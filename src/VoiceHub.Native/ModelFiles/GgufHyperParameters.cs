using System.Globalization;

namespace VoiceHub.Native.ModelFiles;

/// <summary>
/// The hyper-parameters llama.cpp asserts on while it loads a model (a failed GGML_ASSERT ends the
/// whole process), checked in managed code first: layer, head and dimension counts against each
/// other and against the tensors actually in the file, epsilons, rope sizes and the vocabulary.
/// Keys are read as <c>{architecture}.{name}</c>; a key the file does not have is not checked
/// (llama.cpp then fails cleanly or uses its default).
/// </summary>
internal static class GgufHyperParameters
{
    private const int MaxLayers = 512;       // LLAMA_MAX_LAYERS
    private const int MaxExperts = 512;      // LLAMA_MAX_EXPERTS
    private const long MaxEmbedding = 1 << 16;
    private const long MaxContext = 1 << 24;

    /// <summary>What is wrong, or null when llama.cpp can load these hyper-parameters.</summary>
    public static string? Problem(string architecture, IReadOnlyDictionary<string, object> metadata, IReadOnlyList<GgufTensor> tensors)
    {
        var keys = new Keys(architecture, metadata);
        foreach (var (key, value) in metadata)
        {
            if (key.EndsWith("epsilon", StringComparison.Ordinal) && AsDouble(value) is { } epsilon && !(double.IsFinite(epsilon) && epsilon > 0 && epsilon < 1))
            {
                return $"{key} is {Show(epsilon)}; an epsilon must be a small positive number";
            }
        }

        var layerIndexes = tensors.Select(t => LayerIndex(t.Name)).Where(i => i >= 0).ToList();
        var layers = keys.Integer("block_count");
        if (layers is { } n)
        {
            if (n is < 1 or > MaxLayers)
            {
                return $"{architecture}.block_count is {n}; llama.cpp allows 1 to {MaxLayers} layers";
            }

            if (layerIndexes.Count > 0 && layerIndexes.Max() + 1 != n)
            {
                return $"{architecture}.block_count is {n}, but the tensors are for {layerIndexes.Max() + 1} layers (blk.0 to blk.{layerIndexes.Max()})";
            }
        }

        var embedding = keys.Integer("embedding_length");
        if (embedding is < 1 or > MaxEmbedding)
        {
            return $"{architecture}.embedding_length is {embedding}; expected 1 to {MaxEmbedding}";
        }

        var tokenEmbedding = tensors.FirstOrDefault(t => t.Name == "token_embd.weight");
        if (embedding is { } e && tokenEmbedding is not null && tokenEmbedding.Shape[0] != e)
        {
            return $"{architecture}.embedding_length is {e}, but token_embd.weight has rows of {tokenEmbedding.Shape[0]}";
        }

        if (keys.Integer("context_length") is { } context and (< 1 or > MaxContext))
        {
            return $"{architecture}.context_length is {context}; expected 1 to {MaxContext}";
        }

        if (PerLayer(keys, "feed_forward_length", layers, 0, 1 << 20) is { } ffnProblem)
        {
            return ffnProblem;
        }

        if (PerLayer(keys, "attention.head_count", layers, keys.IsArray("attention.head_count") ? 0 : 1, 4096) is { } headProblem)
        {
            return headProblem;
        }

        if (PerLayer(keys, "attention.head_count_kv", layers, 0, 4096) is { } kvProblem)
        {
            return kvProblem;
        }

        var heads = keys.Integer("attention.head_count");
        var kvHeads = keys.Integer("attention.head_count_kv");
        if (heads is > 0 && kvHeads is > 0 && heads % kvHeads != 0)
        {
            return $"{architecture}.attention.head_count {heads} is not a multiple of head_count_kv {kvHeads}";
        }

        var keyLength = keys.Integer("attention.key_length");
        if (keyLength is < 1 or > 4096 || keys.Integer("attention.value_length") is < 1 or > 4096)
        {
            return $"{architecture}.attention.key_length/value_length must be 1 to 4096";
        }

        var headDimension = keyLength ?? (embedding is { } emb && heads is > 0 ? emb / heads : null);
        if (keyLength is null && embedding is { } em && heads is > 0 && em % heads != 0)
        {
            return $"{architecture}.embedding_length {em} is not a multiple of attention.head_count {heads}";
        }

        if (keys.Integer("rope.dimension_count") is { } rope && (rope < 0 || rope % 2 != 0 || (headDimension is { } hd && rope > hd)))
        {
            return $"{architecture}.rope.dimension_count is {rope}; it must be even and at most the head size {headDimension}";
        }

        foreach (var name in new[] { "rope.freq_base", "rope.scaling.factor", "rope.freq_scale" })
        {
            if (keys.Double(name) is { } value && !(double.IsFinite(value) && value >= 0))
            {
                return $"{architecture}.{name} is {Show(value)}; expected a finite non-negative number";
            }
        }

        var experts = keys.Integer("expert_count");
        if (experts is < 0 or > MaxExperts || keys.Integer("expert_used_count") is { } used && (used < 0 || used > (experts ?? 0)))
        {
            return $"{architecture}.expert_count/expert_used_count must satisfy 0 <= used <= count <= {MaxExperts}";
        }

        if (metadata.TryGetValue("tokenizer.ggml.tokens", out var tokensValue) && tokensValue is GgufArray tokens)
        {
            if (tokens.Count == 0)
            {
                return "tokenizer.ggml.tokens is empty";
            }

            if (tokenEmbedding is not null && tokenEmbedding.Shape.Count > 1 && tokenEmbedding.Shape[1] != tokens.Count)
            {
                return $"the vocabulary has {tokens.Count} tokens, but token_embd.weight has {tokenEmbedding.Shape[1]} rows";
            }
        }

        return null;
    }

    /// <summary>A count that may be one number or one per layer (an array as long as block_count).</summary>
    private static string? PerLayer(Keys keys, string name, long? layers, long low, long high)
    {
        if (!keys.TryGet(name, out var value))
        {
            return null;
        }

        var values = value is GgufArray array ? array.Values?.Select(AsDouble).ToList() ?? [] : [AsDouble(value)];
        if (value is GgufArray a && layers is { } n && a.Count != n)
        {
            return $"{keys.Architecture}.{name} lists {a.Count} layers, block_count says {n}";
        }

        foreach (var v in values)
        {
            if (v is not { } d || !double.IsFinite(d) || d != Math.Floor(d) || d < low || d > high)
            {
                return $"{keys.Architecture}.{name} is {(v is { } x ? Show(x) : "not a number")}; expected {low} to {high}";
            }
        }

        return null;
    }

    private static int LayerIndex(string tensorName)
    {
        if (!tensorName.StartsWith("blk.", StringComparison.Ordinal))
        {
            return -1;
        }

        var end = tensorName.IndexOf('.', 4);
        return end > 4 && int.TryParse(tensorName.AsSpan(4, end - 4), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1;
    }

    private static double? AsDouble(object value) => value switch
    {
        byte or sbyte or ushort or short or uint or int or ulong or long => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        float f => f,
        double d => d,
        _ => null,
    };

    private static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private sealed class Keys(string architecture, IReadOnlyDictionary<string, object> metadata)
    {
        public string Architecture => architecture;

        public bool TryGet(string name, out object value) => metadata.TryGetValue($"{architecture}.{name}", out value!);

        public bool IsArray(string name) => TryGet(name, out var value) && value is GgufArray;

        /// <summary>A scalar count (the first element of a per-layer array: the checks that use it then hold per layer too).</summary>
        public long? Integer(string name) => TryGet(name, out var value)
            ? value is GgufArray array ? array.Values is [var first, ..] && AsDouble(first) is { } f ? (long)f : null
            : AsDouble(value) is { } d ? (long)Math.Clamp(d, long.MinValue, long.MaxValue) : null
            : null;

        public double? Double(string name) => TryGet(name, out var value) ? AsDouble(value) : null;
    }
}
