
namespace VoiceHub.Native;

/// <summary>A <c>llama_model</c>: weights and vocabulary.</summary>
public sealed class LlamaModelHandle : NativeHandle
{
    private protected override void Free(nint pointer) => Interop.Llama.llama_model_free(pointer);
}

/// <summary>A <c>llama_context</c>: KV cache and compute buffers over one model.</summary>
public sealed class LlamaContextHandle : NativeHandle
{
    internal static LlamaContextHandle Create(LlamaModelHandle model, Interop.Llama.llama_context_params parameters)
    {
        var context = new LlamaContextHandle();
        var pointer = Interop.Llama.llama_init_from_model(model, parameters);
        if (pointer == 0)
        {
            throw new NativeEngineException("llama", "llama_init_from_model", -1, "could not create a context (context size too large for memory?)");
        }

        context.Initialize(pointer);
        context.SetParent(model);
        return context;
    }

    private protected override void Free(nint pointer) => Interop.Llama.llama_free(pointer);
}

/// <summary>
/// A <c>llama_sampler</c> chain. Samplers added to it are owned by the chain; a grammar sampler
/// refers to the model's vocabulary, so the chain keeps the model alive.
/// </summary>
public sealed class LlamaSamplerHandle : NativeHandle
{
    internal static LlamaSamplerHandle CreateChain(LlamaModelHandle model)
    {
        var chain = new LlamaSamplerHandle();
        var pointer = Interop.Llama.llama_sampler_chain_init(Interop.Llama.llama_sampler_chain_default_params());
        if (pointer == 0)
        {
            throw new NativeEngineException("llama", "llama_sampler_chain_init", -1, "could not create a sampler chain");
        }

        chain.Initialize(pointer);
        chain.SetParent(model);
        return chain;
    }

    private protected override void Free(nint pointer) => Interop.Llama.llama_sampler_free(pointer);
}
