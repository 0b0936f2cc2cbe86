using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using LLama.Common;
using LLama.Native;
using VoiceHub.Native;

namespace VoiceHub.Core.Language;

/// <summary>How a context is sized and run.</summary>
public sealed record LanguageContextOptions
{
    /// <summary>Tokens the KV cache holds (prompt plus output).</summary>
    public int ContextTokens { get; init; } = 2048;

    /// <summary>Tokens decoded per llama_decode call while evaluating a prompt.</summary>
    public int BatchTokens { get; init; } = 512;

    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    public bool FlashAttention { get; init; }
}

/// <summary>
/// One llama.cpp context (KV cache and compute buffers, LLamaSharp's <see cref="LLama.LLamaContext"/>)
/// with its own worker thread. Generations are serialized, stream their text as it is produced, and
/// stop promptly on cancellation through llama.cpp's abort callback. The KV cache keeps the tokens of
/// the last prompt; a new prompt that starts the same way evaluates only what differs (the shared
/// prefix is kept, the rest dropped), which <see cref="PromptTokensEvaluated"/> lets callers verify.
/// </summary>
public sealed class LanguageContext : IDisposable
{
    private static readonly LLamaSeqId Sequence = LLamaSeqId.Zero;

    // ggml_abort_callback, one delegate for every context (each passes itself as the user data).
    private static readonly AbortQuery s_abortQuery = OnAbortQuery;

    private readonly LanguageModel _model;
    private readonly LLama.LLamaContext _context;
    private readonly NativeWorker _worker = new("llama");
    private readonly List<int> _cached = [];
    private readonly LLamaBatch _batch = new();
    private readonly int _batchCapacity;
    private GCHandle _self;
    private CancellationToken _abortToken;

    internal LanguageContext(LanguageModel model, LanguageContextOptions options)
    {
        _model = model;
        var parameters = new ModelParams(model.File.Path)
        {
            ContextSize = (uint)options.ContextTokens,
            BatchSize = (uint)options.BatchTokens,
            UBatchSize = (uint)options.BatchTokens,
            SeqMax = 1,
            Threads = options.Threads,
            BatchThreads = options.Threads,
            FlashAttention = options.FlashAttention,
        };
        using (var capture = LlamaRuntime.CaptureOnThisThread())
        {
            try
            {
                _context = model.Weights.CreateContext(parameters);
            }
            catch (LLama.Exceptions.RuntimeError e)
            {
                throw new NativeEngineException("llama", "llama_init_from_model", -1, $"{e.Message} {capture.LastProblem}");
            }
        }

        _batchCapacity = options.BatchTokens;
        _self = GCHandle.Alloc(this, GCHandleType.Weak);
        NativeApi.llama_set_abort_callback(_context.NativeHandle, Marshal.GetFunctionPointerForDelegate(s_abortQuery), GCHandle.ToIntPtr(_self));
        ContextTokens = (int)_context.ContextSize;
    }

    public LanguageModel Model => _model;

    public int ContextTokens { get; }

    /// <summary>Prompt tokens decoded since the context was created (cache hits are not counted).</summary>
    public long PromptTokensEvaluated { get; private set; }

    /// <summary>Tokens generated since the context was created.</summary>
    public long TokensGenerated { get; private set; }

    /// <summary>Tokens currently held in the KV cache for the last prompt and its output.</summary>
    public int CachedTokenCount => _cached.Count;

    /// <summary>
    /// Generates text after <paramref name="prompt"/>, one decoded piece at a time, until the model
    /// ends its turn, the grammar is complete, <paramref name="maxTokens"/> is reached, or cancellation.
    /// </summary>
    public async IAsyncEnumerable<string> GenerateAsync(
        IReadOnlyList<int> prompt,
        LanguageSampler sampler,
        int maxTokens,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(sampler);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One piece of look-ahead: generation waits for the consumer instead of running away from it.
        var pieces = Channel.CreateBounded<string>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        var run = _worker.RunAsync(() => Generate(prompt, sampler, maxTokens, pieces.Writer, stop.Token));
        try
        {
            await foreach (var piece in pieces.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return piece;
            }

            await run.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await run.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>Generates to the end and returns the whole text.</summary>
    public async Task<string> GenerateTextAsync(IReadOnlyList<int> prompt, LanguageSampler sampler, int maxTokens, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        await foreach (var piece in GenerateAsync(prompt, sampler, maxTokens, cancellationToken).ConfigureAwait(false))
        {
            text.Append(piece);
        }

        return text.ToString();
    }

    /// <summary>Evaluates a prompt into the KV cache without generating, reusing any cached prefix.</summary>
    public Task EvaluateAsync(IReadOnlyList<int> prompt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return _worker.RunAsync(() =>
        {
            _abortToken = cancellationToken;
            cancellationToken.ThrowIfCancellationRequested();
            EvaluatePrompt(prompt);
        });
    }

    /// <summary>Forgets everything in the KV cache (e.g. when the fixed prompt prefix changes).</summary>
    public Task ClearCacheAsync() => _worker.RunAsync(() =>
    {
        _context.NativeHandle.MemoryClear(true);
        _cached.Clear();
    });

    private void Generate(IReadOnlyList<int> prompt, LanguageSampler sampler, int maxTokens, ChannelWriter<string> writer, CancellationToken token)
    {
        try
        {
            _abortToken = token;
            sampler.Reset();
            EvaluatePrompt(prompt);
            var decoder = Encoding.UTF8.GetDecoder();
            var chars = new char[64];
            for (var i = 0; i < maxTokens; i++)
            {
                token.ThrowIfCancellationRequested();
                var next = sampler.Sample(_context.NativeHandle);
                if (_model.IsEndOfGeneration(next))
                {
                    break;
                }

                var bytes = _model.TokenBytes(next);
                var count = decoder.GetChars(bytes, chars, flush: false);
                if (count > 0)
                {
                    var piece = new string(chars, 0, count);
                    if (!writer.TryWrite(piece))
                    {
                        writer.WriteAsync(piece, token).AsTask().GetAwaiter().GetResult();
                    }
                }

                TokensGenerated++;
                Decode([next], _cached.Count);
                _cached.Add(next);
            }

            writer.Complete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
            throw;
        }
    }

    private void EvaluatePrompt(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0)
        {
            throw new ArgumentException("the prompt is empty", nameof(prompt));
        }

        if (prompt.Count >= ContextTokens)
        {
            throw new ArgumentException($"the prompt has {prompt.Count} tokens, the context holds {ContextTokens}", nameof(prompt));
        }

        // Keep the longest prefix the cache shares with this prompt, but always decode the last
        // prompt token again: its logits are what the first sampled token comes from.
        var common = 0;
        while (common < _cached.Count && common < prompt.Count - 1 && _cached[common] == prompt[common])
        {
            common++;
        }

        _context.NativeHandle.MemorySequenceRemove(Sequence, common, -1);
        _cached.RemoveRange(common, _cached.Count - common);
        var pending = new int[prompt.Count - common];
        for (var i = common; i < prompt.Count; i++)
        {
            pending[i - common] = prompt[i];
        }

        for (var offset = 0; offset < pending.Length; offset += _batchCapacity)
        {
            var chunk = pending.AsSpan(offset, Math.Min(_batchCapacity, pending.Length - offset));
            Decode(chunk, _cached.Count);
            foreach (var t in chunk)
            {
                _cached.Add(t);
            }

            PromptTokensEvaluated += chunk.Length;
        }
    }

    private void Decode(ReadOnlySpan<int> tokens, int startPosition)
    {
        _batch.Clear();
        for (var i = 0; i < tokens.Length; i++)
        {
            _batch.Add(tokens[i], startPosition + i, Sequence, i == tokens.Length - 1);
        }

        var result = _context.NativeHandle.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            // A failed or aborted batch may have left part of itself in the cache.
            _context.NativeHandle.MemorySequenceRemove(Sequence, startPosition, -1);
            _abortToken.ThrowIfCancellationRequested();
            throw new NativeEngineException("llama", "llama_decode", (int)result, result == DecodeResult.NoKvSlot ? "no room in the KV cache" : $"decode failed ({result})");
        }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate byte AbortQuery(nint user);

    private static byte OnAbortQuery(nint user) =>
        GCHandle.FromIntPtr(user).Target is LanguageContext context && context._abortToken.IsCancellationRequested ? (byte)1 : (byte)0;

    public void Dispose()
    {
        _worker.Dispose(); // lets a running job finish; nothing touches the context afterwards
        if (_self.IsAllocated)
        {
            NativeApi.llama_set_abort_callback(_context.NativeHandle, 0, 0);
            _self.Free();
        }

        _context.Dispose();
    }
}
