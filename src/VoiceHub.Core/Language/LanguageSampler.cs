using LLama.Native;
using LLama.Sampling;
using VoiceHub.Native.Grammar;

namespace VoiceHub.Core.Language;

/// <summary>How the next token is chosen.</summary>
public sealed record LanguageSamplerOptions
{
    /// <summary>0 picks the most likely token (deterministic); above 0 samples at that temperature.</summary>
    public float Temperature { get; init; }

    public int TopK { get; init; } = 40;

    public float TopP { get; init; } = 0.95f;

    public uint Seed { get; init; } = 42;

    /// <summary>Only tokens that keep the output inside this grammar can be chosen.</summary>
    public GbnfGrammar? Grammar { get; init; }
}

/// <summary>
/// LLamaSharp's sampling pipeline: greedy or temperature sampling under an optional GBNF grammar.
/// The grammar is checked against the token sampling picks first and applied to the whole
/// vocabulary only when that token breaks it (LLamaSharp's grammar optimization, as llama.cpp's own
/// tools sample): for greedy decoding the result is the same, and it is several times faster with a
/// 32,000-token vocabulary. It keeps the grammar's parse state, so one pipeline serves one
/// generation at a time; <see cref="Reset"/> rewinds it for the next.
/// </summary>
public sealed class LanguageSampler : IDisposable
{
    private readonly DefaultSamplingPipeline _pipeline;

    public LanguageSampler(LanguageModel model, LanguageSamplerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _pipeline = new DefaultSamplingPipeline
        {
            // Only grammars GbnfGrammar.Parse accepted get here: LLamaSharp hands llama.cpp's
            // grammar sampler whatever it is given.
            Grammar = options.Grammar is { } grammar ? new Grammar(grammar.Text, grammar.Root) : null,
            GrammarOptimization = DefaultSamplingPipeline.GrammarOptimizationMode.Extended,
            Temperature = Math.Max(0, options.Temperature),
            TopK = options.TopK,
            TopP = options.TopP,
            MinP = 0,
            RepeatPenalty = 1,
            Seed = options.Seed,
        };
    }

    public LanguageSamplerOptions Options { get; }

    /// <summary>Samples from the last decoded position's logits and advances the grammar.</summary>
    internal int Sample(SafeLLamaContextHandle context) => (int)_pipeline.Sample(context, -1);

    /// <summary>Rewinds the grammar and any sampler history, for a new generation.</summary>
    public void Reset() => _pipeline.Reset();

    public void Dispose() => _pipeline.Dispose();
}
