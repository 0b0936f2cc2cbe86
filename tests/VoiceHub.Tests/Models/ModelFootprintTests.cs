using VoiceHub.Core.Models;
using VoiceHub.Native.ModelFiles;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Models;

/// <summary>The memory a model takes in use, estimated from its header for the ladder's preload budget.</summary>
public sealed class ModelFootprintTests
{
    private static readonly LlamaShape s_shape = new(Embedding: 64, Layers: 2, Heads: 4, KvHeads: 2, FeedForward: 128);

    [Fact]
    public void A_language_model_takes_its_file_plus_the_kv_cache_attention_scores_and_tokenizer_tables()
    {
        using var temp = new TempDirectory();
        var path = GgufWriter.WriteLlama(temp.File("model.gguf"), s_shape);

        var at2048 = ModelFootprint.EstimateBytes(path, contextTokens: 2048, batchTokens: 512);
        var at4096 = ModelFootprint.EstimateBytes(path, contextTokens: 4096, batchTokens: 512);

        // Per extra context token: K and V (F16) in every layer for the KV heads, and one column of the batch's scores.
        long perToken = (2L * 2 * 2 * 16 * 2) + (512L * 4 * 4);
        Assert.Equal(2048 * perToken, at4096 - at2048);
        Assert.InRange(at2048 - new FileInfo(path).Length, 2048 * perToken, 2048 * perToken + (80L << 20)); // tables: tens of MiB for 32,000 tokens
    }

    [Fact]
    public void A_whisper_model_takes_more_than_its_file_and_a_wider_one_more_again()
    {
        using var temp = new TempDirectory();
        var narrow = WhisperModelWriter.Write(temp.File("narrow.bin"), state: 64, heads: 2, layers: 1);
        var wide = WhisperModelWriter.Write(temp.File("wide.bin"), state: 128, heads: 2, layers: 1);

        var narrowExtra = ModelFootprint.EstimateBytes(narrow) - new FileInfo(narrow).Length;
        var wideExtra = ModelFootprint.EstimateBytes(wide) - new FileInfo(wide).Length;

        Assert.True(narrowExtra > 0);
        Assert.True(wideExtra > narrowExtra);
    }

    [Fact]
    public void A_file_of_another_kind_counts_as_its_size()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("notes.bin"), "not a model at all");

        Assert.Equal(18, ModelFootprint.EstimateBytes(temp.File("notes.bin")));
    }

    [Theory]
    [InlineData("q4_0", true)]
    [InlineData("q4_K", true)]
    [InlineData("q8_0", false)]
    [InlineData("f16", false)]
    public void Only_the_types_llama_cpp_repacks_are_read_instead_of_mapped(string type, bool repacked) =>
        Assert.Equal(repacked, ModelFootprint.IsRepacked(GgmlTypes.All.Single(t => t.Name == type)));
}
