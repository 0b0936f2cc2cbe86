using VoiceHub.Native.Grammar;
using static VoiceHub.Native.Interop.Llama;

namespace VoiceHub.Native.Llama;

/// <summary>How the next token is chosen.</summary>
public sealed record LlamaSamplerOptions
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
/// A llama.cpp sampler chain (grammar first, then greedy or temperature sampling). It keeps the
/// grammar's parse state, so one chain serves one generation at a time; <see cref="Reset"/>
/// rewinds it for the next.
/// </summary>
public sealed unsafe class LlamaSampler : IDisposable
{
    private readonly LlamaSamplerHandle _chain;

    public LlamaSampler(LlamaModel model, LlamaSamplerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _chain = LlamaSamplerHandle.CreateChain(model.Handle);
        try
        {
            if (options.Grammar is { } grammar)
            {
                using var text = new NativeUtf8(grammar.Text);
                using var root = new NativeUtf8(grammar.Root);
                using var capture = NativeLog.Llama.CaptureOnThisThread();
                var sampler = llama_sampler_init_grammar(model.Vocabulary, text.Pointer, root.Pointer);
                if (sampler == 0)
                {
                    throw new GbnfException($"llama.cpp rejected the grammar: {capture.LastProblem}");
                }

                llama_sampler_chain_add(_chain, sampler);
            }

            if (options.Temperature <= 0)
            {
                llama_sampler_chain_add(_chain, llama_sampler_init_greedy());
            }
            else
            {
                llama_sampler_chain_add(_chain, llama_sampler_init_top_k(options.TopK));
                llama_sampler_chain_add(_chain, llama_sampler_init_top_p(options.TopP, 1));
                llama_sampler_chain_add(_chain, llama_sampler_init_temp(options.Temperature));
                llama_sampler_chain_add(_chain, llama_sampler_init_dist(options.Seed));
            }
        }
        catch
        {
            _chain.Dispose();
            throw;
        }
    }

    public LlamaSamplerOptions Options { get; }

    internal LlamaSamplerHandle Handle => _chain;

    /// <summary>Rewinds the grammar and any sampler history, for a new generation.</summary>
    public void Reset() => llama_sampler_reset(_chain);

    public void Dispose() => _chain.Dispose();
}
