using VoiceHub.Core.Language;
using VoiceHub.Native;
using VoiceHub.Native.Grammar;
using VoiceHub.Native.ModelFiles;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>llama.cpp through LLamaSharp, run for real on a tiny random-weight llama with the real Llama-2 vocabulary.</summary>
[Trait("needs", "native")]
public sealed class LanguageModelTests
{
    private const string CommandGrammar = """
        root ::= "{\"intent\":\"" intent "\",\"name\":\"" name "\"" level? "}"
        intent ::= "HassTurnOn" | "HassTurnOff" | "HassLightSet"
        name ::= "kitchen light" | "bedroom lamp" | "garage door"
        level ::= ",\"brightness\":" [1-9] [0-9]?
        """;

    [Fact]
    public void Tokenizes_and_detokenizes_with_the_models_vocabulary()
    {
        using var model = LanguageModel.Load(TestPaths.LlamaTestModel);

        var tokens = model.Tokenize("turn on the kitchen light", addSpecial: true);

        Assert.Equal(32000, model.VocabularySize);
        Assert.Equal(1, tokens[0]); // BOS of the Llama-2 vocabulary
        Assert.Equal("turn on the kitchen light", model.Detokenize(tokens).Trim());
    }

    [Fact]
    public async Task Every_output_generated_under_a_gbnf_grammar_parses_under_that_grammar()
    {
        var grammar = GbnfGrammar.Parse(CommandGrammar);
        using var model = LanguageModel.Load(TestPaths.LlamaTestModel);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = 256, Threads = 2 });
        var prompt = model.Tokenize("Command:", addSpecial: true);

        var outputs = new List<string>();
        for (uint seed = 1; seed <= 40; seed++)
        {
            using var sampler = new LanguageSampler(model, new LanguageSamplerOptions { Grammar = grammar, Temperature = 1.5f, TopK = 0, TopP = 1f, Seed = seed });
            outputs.Add(await context.GenerateTextAsync(prompt, sampler, maxTokens: 64));
        }

        Assert.All(outputs, o => Assert.True(grammar.Matches(o), $"not in the grammar: {o}"));
        Assert.True(outputs.Distinct().Count() > 3, "sampling at temperature 1.5 should explore the grammar");
    }

    [Fact]
    public async Task A_shared_prompt_prefix_is_evaluated_once_and_reused_from_the_kv_cache()
    {
        using var model = LanguageModel.Load(TestPaths.LlamaTestModel);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = 512, Threads = 2 });
        var prefix = model.Tokenize("You turn spoken home commands into JSON. Devices: kitchen light, bedroom lamp.", addSpecial: true);
        var first = prefix.Concat(model.Tokenize(" User: turn on the kitchen light", addSpecial: false)).ToArray();
        var second = prefix.Concat(model.Tokenize(" User: dim the bedroom lamp", addSpecial: false)).ToArray();
        using var sampler = new LanguageSampler(model, new LanguageSamplerOptions());

        await context.GenerateTextAsync(first, sampler, maxTokens: 4);
        var afterFirst = context.PromptTokensEvaluated;
        await context.GenerateTextAsync(second, sampler, maxTokens: 4);
        var secondCost = context.PromptTokensEvaluated - afterFirst;

        var shared = first.Zip(second).TakeWhile(p => p.First == p.Second).Count();
        Assert.True(shared >= prefix.Length);
        Assert.Equal(first.Length, afterFirst);
        Assert.Equal(second.Length - shared, secondCost);
    }

    [Fact]
    public async Task Cancellation_stops_generation_and_the_context_stays_usable()
    {
        using var model = LanguageModel.Load(TestPaths.LlamaTestModel);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = 4096, Threads = 2 });
        using var sampler = new LanguageSampler(model, new LanguageSamplerOptions { Temperature = 1f, Seed = 3 });
        var prompt = model.Tokenize("Once upon a time", addSpecial: true);
        using var cancel = new CancellationTokenSource();

        var pieces = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var piece in context.GenerateAsync(prompt, sampler, maxTokens: 3000, cancel.Token))
            {
                if (++pieces == 5)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.InRange(pieces, 5, 6); // one piece of look-ahead at most
        var text = await context.GenerateTextAsync(prompt, sampler, maxTokens: 3);
        Assert.NotNull(text);
    }
}

/// <summary>Models the GGUF writer produces load and generate in llama.cpp.</summary>
[Trait("needs", "native")]
public sealed class GgufWriterTests
{
    [Fact]
    public async Task A_written_llama_model_loads_validates_and_generates()
    {
        using var temp = new TempDirectory();
        var path = GgufWriter.WriteLlama(temp.File("written.gguf"), new LlamaShape(Embedding: 64, Layers: 2));

        var file = GgufFile.Read(path);
        using var model = LanguageModel.Load(path);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = 128, Threads = 2 });
        using var sampler = new LanguageSampler(model, new LanguageSamplerOptions());
        var text = await context.GenerateTextAsync(model.Tokenize("Hello", addSpecial: true), sampler, maxTokens: 8);

        Assert.Equal(2 + (2 * 9) + 1, file.Tensors.Count);
        Assert.Equal(32000, model.VocabularySize);
        Assert.Equal("F16", model.FileTypeName.Split(' ')[^1]);
        Assert.NotEmpty(text);
    }

    [Fact]
    public async Task A_written_qwen2_shape_with_a_larger_vocabulary_and_tied_embeddings_loads_and_generates()
    {
        // The shape bench slm writes at full size: q/k/v biases, grouped KV heads, synthetic extra tokens, no output matrix.
        using var temp = new TempDirectory();
        var path = GgufWriter.WriteLlama(temp.File("qwen.gguf"), new LlamaShape(Embedding: 64, Layers: 2, Heads: 4, KvHeads: 2, FeedForward: 128, Architecture: "qwen2", Vocabulary: 32500, TiedEmbeddings: true, RopeFrequencyBase: 1000000f));

        var file = GgufFile.Read(path);
        using var model = LanguageModel.Load(path);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = 128, Threads = 2 });
        using var sampler = new LanguageSampler(model, new LanguageSamplerOptions());
        var text = await context.GenerateTextAsync(model.Tokenize("turn on the kitchen light", addSpecial: true), sampler, maxTokens: 8);

        Assert.Equal("qwen2", file.Architecture);
        Assert.DoesNotContain(file.Tensors, t => t.Name == "output.weight");
        Assert.Contains(file.Tensors, t => t.Name == "blk.1.attn_k.bias" && t.Shape[0] == 32);
        Assert.Equal(32500, model.VocabularySize);
        Assert.NotEmpty(text);
    }
}

/// <summary>The thermal ladder's lighter rungs, made from one model by llama.cpp's quantizer.</summary>
[Trait("needs", "native")]
public sealed class LanguageModelQuantizerTests
{
    [Theory]
    [InlineData(QuantizationType.Q8_0, "Q8_0")]
    [InlineData(QuantizationType.Q4_0, "Q4_0")]
    [InlineData(QuantizationType.Q4_K_M, "Q4_K_M")]
    public async Task A_quantized_model_is_smaller_loads_and_generates(QuantizationType type, string typeName)
    {
        using var temp = new TempDirectory();
        var source = GgufWriter.WriteLlama(temp.File("f16.gguf"), new LlamaShape(Embedding: 256, Layers: 2, Heads: 4, KvHeads: 4, FeedForward: 512));

        LanguageModelQuantizer.Quantize(source, temp.File("out.gguf"), type, threads: 2);

        Assert.True(new FileInfo(temp.File("out.gguf")).Length < new FileInfo(source).Length * 0.75);
        Assert.False(File.Exists(temp.File("out.gguf.part")));
        using var model = LanguageModel.Load(temp.File("out.gguf"));
        Assert.Equal(typeName, model.FileTypeName);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = 128, Threads = 2 });
        using var sampler = new LanguageSampler(model, new LanguageSamplerOptions());
        Assert.NotEmpty(await context.GenerateTextAsync(model.Tokenize("Hello", addSpecial: true), sampler, maxTokens: 4));
    }

    [Fact]
    public void A_file_that_is_not_gguf_is_refused_before_llama_cpp_sees_it_and_nothing_is_written()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("notes.gguf"), "not a model");

        var error = Assert.Throws<ModelFormatException>(() => LanguageModelQuantizer.Quantize(temp.File("notes.gguf"), temp.File("out.gguf"), QuantizationType.Q4_0));

        Assert.Contains("notes.gguf", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(temp.Path, "out.gguf*"));
    }

    [Fact]
    public void Rows_that_are_not_whole_blocks_are_refused_with_the_tensor_named()
    {
        using var temp = new TempDirectory();
        var source = GgufWriter.WriteLlama(temp.File("odd.gguf"), new LlamaShape(Embedding: 48, Layers: 1, Heads: 4, KvHeads: 4, FeedForward: 96));

        var error = Assert.Throws<ModelFormatException>(() => LanguageModelQuantizer.Quantize(source, temp.File("out.gguf"), QuantizationType.Q4_0));

        Assert.Contains("rows of 48 values", error.Message, StringComparison.Ordinal);
    }
}
