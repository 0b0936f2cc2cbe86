using System.Text;
using VoiceHub.Native.ModelFiles;

namespace VoiceHub.Tests.Support;

/// <summary>
/// The shape of a llama-family model to write: the llama.cpp architecture ("llama", or "qwen2"
/// with its q/k/v biases), dimensions, vocabulary size (0: the Llama-2 tokenizer's 32,000; more
/// adds synthetic tokens), whether the output layer is the token embedding (tied), and RoPE's base.
/// </summary>
public sealed record LlamaShape(
    int Embedding = 64,
    int Layers = 2,
    int Heads = 4,
    int KvHeads = 4,
    int FeedForward = 128,
    int Context = 2048,
    string Architecture = "llama",
    int Vocabulary = 0,
    bool TiedEmbeddings = false,
    float RopeFrequencyBase = 10000f);

/// <summary>
/// Writes llama-architecture GGUF models with random weights and the real Llama-2 tokenizer
/// (copied from the tiny test model). Dimensions are free, so unlike the tiny model (rows of 8)
/// they can be multiples of the 32- and 256-wide quantization blocks that llama-quantize needs,
/// and large enough to give benchmarks a realistic amount of work.
/// </summary>
public static class GgufWriter
{
    private const int Alignment = 32;

    /// <param name="metadata">Changes the metadata before it is written (tests of malformed headers).</param>
    public static string WriteLlama(string path, LlamaShape shape, bool f16 = true, int seed = 1, string name = "voicehub-test-llama", Action<List<(string Key, object Value)>>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var tokenizer = GgufFile.Read(TestPaths.LlamaTestModel, keepLargeArrays: true).Metadata
            .Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal))
            .ToList();
        var vocabulary = (int)((GgufArray)tokenizer.Single(kv => kv.Key == "tokenizer.ggml.tokens").Value).Count;
        if (shape.Vocabulary > vocabulary)
        {
            tokenizer = [.. tokenizer.Select(kv => new KeyValuePair<string, object>(kv.Key, Pad(kv.Key, kv.Value, vocabulary, shape.Vocabulary)))];
            vocabulary = shape.Vocabulary;
        }

        var kvEmbedding = shape.Embedding / shape.Heads * shape.KvHeads;
        var bias = shape.Architecture == "qwen2";
        var tensors = new List<(string Name, long[] Shape, bool Matrix)>
        {
            ("token_embd.weight", [shape.Embedding, vocabulary], true),
        };
        for (var i = 0; i < shape.Layers; i++)
        {
            tensors.Add(($"blk.{i}.attn_norm.weight", [shape.Embedding], false));
            tensors.Add(($"blk.{i}.attn_q.weight", [shape.Embedding, shape.Embedding], true));
            tensors.Add(($"blk.{i}.attn_k.weight", [shape.Embedding, kvEmbedding], true));
            tensors.Add(($"blk.{i}.attn_v.weight", [shape.Embedding, kvEmbedding], true));
            if (bias)
            {
                tensors.Add(($"blk.{i}.attn_q.bias", [shape.Embedding], false));
                tensors.Add(($"blk.{i}.attn_k.bias", [kvEmbedding], false));
                tensors.Add(($"blk.{i}.attn_v.bias", [kvEmbedding], false));
            }

            tensors.Add(($"blk.{i}.attn_output.weight", [shape.Embedding, shape.Embedding], true));
            tensors.Add(($"blk.{i}.ffn_norm.weight", [shape.Embedding], false));
            tensors.Add(($"blk.{i}.ffn_gate.weight", [shape.Embedding, shape.FeedForward], true));
            tensors.Add(($"blk.{i}.ffn_up.weight", [shape.Embedding, shape.FeedForward], true));
            tensors.Add(($"blk.{i}.ffn_down.weight", [shape.FeedForward, shape.Embedding], true));
        }

        tensors.Add(("output_norm.weight", [shape.Embedding], false));
        if (!shape.TiedEmbeddings)
        {
            tensors.Add(("output.weight", [shape.Embedding, vocabulary], true));
        }

        var arch = shape.Architecture;
        var entries = new List<(string Key, object Value)>
        {
            ("general.architecture", arch),
            ("general.name", name),
            ("general.file_type", f16 ? 1u : 0u),
            ($"{arch}.context_length", (uint)shape.Context),
            ($"{arch}.embedding_length", (uint)shape.Embedding),
            ($"{arch}.block_count", (uint)shape.Layers),
            ($"{arch}.feed_forward_length", (uint)shape.FeedForward),
            ($"{arch}.rope.dimension_count", (uint)(shape.Embedding / shape.Heads)),
            ($"{arch}.rope.freq_base", shape.RopeFrequencyBase),
            ($"{arch}.attention.head_count", (uint)shape.Heads),
            ($"{arch}.attention.head_count_kv", (uint)shape.KvHeads),
            ($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f),
        };
        entries.AddRange(tokenizer.Select(kv => (kv.Key, kv.Value)));
        metadata?.Invoke(entries);

        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(GgufFile.Magic);
        writer.Write(3u);
        writer.Write((ulong)tensors.Count);
        writer.Write((ulong)entries.Count);
        foreach (var (key, value) in entries)
        {
            WriteString(writer, key);
            WriteValue(writer, value);
        }

        long offset = 0;
        var sizes = new List<long>();
        foreach (var (tensorName, dims, matrix) in tensors)
        {
            var type = matrix && f16 ? GgmlTypes.F16 : GgmlTypes.F32;
            WriteString(writer, tensorName);
            writer.Write((uint)dims.Length);
            foreach (var d in dims)
            {
                writer.Write((ulong)d);
            }

            writer.Write((uint)type.Id);
            writer.Write((ulong)offset);
            var bytes = type.ByteSize(dims)!.Value;
            sizes.Add(bytes);
            offset += (bytes + Alignment - 1) / Alignment * Alignment;
        }

        Pad(writer);
        // Random values, a block of them repeated through each tensor: what matters here is the
        // shape and the arithmetic, not fresh randomness in every one of a billion weights.
        var random = new Random(seed);
        var block = new byte[1 << 20];
        for (var t = 0; t < tensors.Count; t++)
        {
            var (_, dims, matrix) = tensors[t];
            var elements = dims.Aggregate(1L, (a, b) => a * b);
            var scale = 1f / MathF.Sqrt(dims[0]);
            var half = matrix && f16;
            var width = half ? 2 : 4;
            var perBlock = block.Length / width;
            for (var i = 0; i < perBlock; i++)
            {
                var value = matrix ? scale * ((random.NextSingle() * 2) - 1) * 1.7f : 1f;
                if (half)
                {
                    BitConverter.TryWriteBytes(block.AsSpan(i * 2), (Half)value);
                }
                else
                {
                    BitConverter.TryWriteBytes(block.AsSpan(i * 4), value);
                }
            }

            for (var left = elements; left > 0; left -= perBlock)
            {
                writer.Write(block, 0, (int)(Math.Min(left, perBlock) * width));
            }

            Pad(writer);
        }

        return path;
    }

    /// <summary>The tokenizer's per-token arrays grown to the vocabulary size with synthetic tokens.</summary>
    private static object Pad(string key, object value, int count, int vocabulary)
    {
        if (value is not GgufArray { Values: { } values } array || array.Count != count)
        {
            return value;
        }

        var extra = Enumerable.Range(count, vocabulary - count).Select(i => key switch
        {
            "tokenizer.ggml.tokens" => (object)$"<extra_{i}>",
            "tokenizer.ggml.scores" => -1000f,
            _ => (object)1, // token_type: normal
        });
        return array with { Values = [.. values, .. extra], Count = vocabulary };
    }

    private static void Pad(BinaryWriter writer)
    {
        writer.Flush();
        var padding = (Alignment - (writer.BaseStream.Position % Alignment)) % Alignment;
        writer.Write(new byte[padding]);
    }

    private static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write((ulong)bytes.Length);
        writer.Write(bytes);
    }

    private static void WriteValue(BinaryWriter writer, object value)
    {
        switch (value)
        {
            case uint u:
                writer.Write(4u);
                writer.Write(u);
                break;
            case int i:
                writer.Write(5u);
                writer.Write(i);
                break;
            case float f:
                writer.Write(6u);
                writer.Write(f);
                break;
            case bool b:
                writer.Write(7u);
                writer.Write(b);
                break;
            case string s:
                writer.Write(8u);
                WriteString(writer, s);
                break;
            case GgufArray array:
                writer.Write(9u);
                writer.Write((uint)array.ElementType);
                writer.Write((ulong)array.Count);
                foreach (var element in array.Values!)
                {
                    WriteElement(writer, element);
                }

                break;
            default:
                throw new NotSupportedException($"GGUF value of type {value.GetType()}");
        }
    }

    private static void WriteElement(BinaryWriter writer, object element)
    {
        switch (element)
        {
            case string s:
                WriteString(writer, s);
                break;
            case float f:
                writer.Write(f);
                break;
            case int i:
                writer.Write(i);
                break;
            case uint u:
                writer.Write(u);
                break;
            default:
                throw new NotSupportedException($"GGUF array element of type {element.GetType()}");
        }
    }
}
