using System.Runtime.InteropServices;
using System.Text;
using VoiceHub.Native.ModelFiles;
using static VoiceHub.Native.Interop.Llama;

namespace VoiceHub.Native.Llama;

/// <summary>A GGUF language model loaded by llama.cpp, with its vocabulary.</summary>
public sealed unsafe class LlamaModel : IDisposable
{
    private static readonly Lazy<bool> s_backend = new(() =>
    {
        NativeLog.Llama.Install();
        llama_backend_init();
        return true;
    });

    private readonly LlamaModelHandle _model;
    private readonly nint _vocabulary;

    private LlamaModel(GgufFile file, LlamaModelHandle model)
    {
        File = file;
        _model = model;
        _vocabulary = llama_model_get_vocab(model);
        VocabularySize = llama_vocab_n_tokens(_vocabulary);
    }

    public GgufFile File { get; }

    public int VocabularySize { get; }

    public int TrainedContextLength => llama_model_n_ctx_train(_model);

    public ulong SizeBytes => llama_model_size(_model);

    public ulong ParameterCount => llama_model_n_params(_model);

    /// <summary>llama.cpp's name for the model's weight type, e.g. "Q4_0" or "F16".</summary>
    public string FileTypeName => Marshal.PtrToStringUTF8((nint)llama_ftype_name(llama_model_ftype(_model))) ?? "unknown";

    public string Description
    {
        get
        {
            var buffer = stackalloc byte[256];
            var length = llama_model_desc(_model, buffer, 256);
            return length > 0 ? Encoding.UTF8.GetString(buffer, Math.Min(length, 255)) : string.Empty;
        }
    }

    /// <summary>The Jinja chat template stored in the model, if any.</summary>
    public string? ChatTemplate => Marshal.PtrToStringUTF8((nint)llama_model_chat_template(_model, null));

    internal LlamaModelHandle Handle => _model;

    internal nint Vocabulary => _vocabulary;

    public static string SystemInfo => Marshal.PtrToStringUTF8((nint)llama_print_system_info()) ?? string.Empty;

    /// <summary>Validates the GGUF in managed code, then loads it with llama.cpp (memory-mapped).</summary>
    public static LlamaModel Load(string path, LlamaModelOptions? options = null)
    {
        options ??= new LlamaModelOptions();
        var file = GgufFile.Read(path);
        _ = s_backend.Value;
        var parameters = llama_model_default_params();
        parameters.n_gpu_layers = 0;
        parameters.load_mode = options.MemoryMap ? llama_load_mode.LLAMA_LOAD_MODE_MMAP : llama_load_mode.LLAMA_LOAD_MODE_NONE;
        parameters.vocab_only = options.VocabularyOnly;
        using var capture = NativeLog.Llama.CaptureOnThisThread();
        var model = llama_model_load_from_file(path, parameters);
        if (model.IsInvalid)
        {
            model.Dispose();
            throw new ModelFormatException(path, $"llama.cpp could not load it: {capture.LastProblem}");
        }

        return new LlamaModel(file, model);
    }

    public LlamaContext CreateContext(LlamaContextOptions? options = null) => new(this, options ?? new LlamaContextOptions());

    /// <summary>Text to token ids, as the model's tokenizer splits it.</summary>
    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        var capacity = bytes.Length + 8;
        while (true)
        {
            var tokens = new int[capacity];
            int count;
            fixed (byte* t = bytes)
            fixed (int* o = tokens)
            {
                count = llama_tokenize(_vocabulary, t, bytes.Length, o, capacity, addSpecial, parseSpecial);
            }

            GC.KeepAlive(_model);
            if (count >= 0)
            {
                return tokens[..count];
            }

            if (count == int.MinValue)
            {
                throw new NativeEngineException("llama", "llama_tokenize", count, "text too long to tokenize");
            }

            capacity = -count;
        }
    }

    /// <summary>The bytes a token stands for (possibly part of a UTF-8 sequence).</summary>
    public byte[] TokenBytes(int token, bool renderSpecial = false)
    {
        var buffer = stackalloc byte[64];
        var length = llama_token_to_piece(_vocabulary, token, buffer, 64, 0, renderSpecial);
        if (length < 0)
        {
            var large = new byte[-length];
            fixed (byte* l = large)
            {
                length = llama_token_to_piece(_vocabulary, token, l, large.Length, 0, renderSpecial);
            }

            GC.KeepAlive(_model);
            return large[..length];
        }

        GC.KeepAlive(_model);
        return new ReadOnlySpan<byte>(buffer, length).ToArray();
    }

    /// <summary>Token ids back to text.</summary>
    public string Detokenize(ReadOnlySpan<int> tokens, bool removeSpecial = true)
    {
        var capacity = (tokens.Length * 8) + 16;
        while (true)
        {
            var buffer = new byte[capacity];
            int length;
            fixed (int* t = tokens)
            fixed (byte* b = buffer)
            {
                length = llama_detokenize(_vocabulary, t, tokens.Length, b, capacity, removeSpecial, false);
            }

            GC.KeepAlive(_model);
            if (length >= 0)
            {
                return Encoding.UTF8.GetString(buffer, 0, length);
            }

            capacity = -length;
        }
    }

    public bool IsEndOfGeneration(int token) => llama_vocab_is_eog(_vocabulary, token);

    /// <summary>Formats a conversation with the model's own chat template (llama.cpp's built-in renderer).</summary>
    public string ApplyChatTemplate(IReadOnlyList<(string Role, string Content)> messages, bool addAssistantPrefix = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var template = llama_model_chat_template(_model, null);
        if (template is null)
        {
            throw new InvalidOperationException($"{File.Path}: the model has no chat template");
        }

        var strings = new List<NativeUtf8>();
        var chat = new llama_chat_message[messages.Count];
        try
        {
            for (var i = 0; i < messages.Count; i++)
            {
                var role = new NativeUtf8(messages[i].Role);
                var content = new NativeUtf8(messages[i].Content);
                strings.Add(role);
                strings.Add(content);
                chat[i] = new llama_chat_message { role = role.Pointer, content = content.Pointer };
            }

            var capacity = messages.Sum(m => m.Content.Length * 2) + 512;
            while (true)
            {
                var buffer = new byte[capacity];
                int length;
                fixed (llama_chat_message* c = chat)
                fixed (byte* b = buffer)
                {
                    length = llama_chat_apply_template(template, c, (nuint)chat.Length, addAssistantPrefix, b, capacity);
                }

                if (length < 0)
                {
                    throw new NativeEngineException("llama", "llama_chat_apply_template", length, "the model's chat template is not one llama.cpp can render");
                }

                if (length <= capacity)
                {
                    return Encoding.UTF8.GetString(buffer, 0, length);
                }

                capacity = length;
            }
        }
        finally
        {
            foreach (var s in strings)
            {
                s.Dispose();
            }

            GC.KeepAlive(_model);
        }
    }

    public void Dispose() => _model.Dispose();
}

/// <summary>How a GGUF model is loaded.</summary>
public sealed record LlamaModelOptions
{
    /// <summary>Map the file instead of reading it (pages load on demand; the page cache is shared).</summary>
    public bool MemoryMap { get; init; } = true;

    /// <summary>Load only the tokenizer (for tools that only tokenize).</summary>
    public bool VocabularyOnly { get; init; }
}
