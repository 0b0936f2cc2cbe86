using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using VoiceHub.Core.Models;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;

namespace VoiceHub.Core.Language;

/// <summary>How a GGUF model is loaded.</summary>
public sealed record LanguageModelOptions
{
    /// <summary>
    /// Map the file instead of reading it (pages load on demand; the page cache is shared). Null
    /// decides by the weights: mapped, unless most are of a type llama.cpp repacks for the CPU
    /// (Q4_0, Q4_K), where a mapped file would be held twice, as file pages and repacked
    /// (Llama-3.2-1B Q4_0: 1,550 MiB mapped, 1,016 MiB read; bench slm).
    /// </summary>
    public bool? MemoryMap { get; init; }

    /// <summary>Load only the tokenizer (for tools that only tokenize).</summary>
    public bool VocabularyOnly { get; init; }
}

/// <summary>
/// A GGUF language model loaded by llama.cpp through LLamaSharp, with its vocabulary. The file is
/// validated in managed code first: llama.cpp aborts the whole process on some malformed files.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private readonly LLamaWeights _weights;

    private LanguageModel(GgufFile file, LLamaWeights weights)
    {
        File = file;
        _weights = weights;
    }

    public GgufFile File { get; }

    public int VocabularySize => _weights.Vocab.Count;

    public int TrainedContextLength => _weights.ContextSize;

    public ulong SizeBytes => _weights.SizeInBytes;

    public ulong ParameterCount => _weights.ParameterCount;

    /// <summary>
    /// The model's weight type as llama.cpp names it, e.g. "Q4_0" or "F16". (Not through
    /// llama_ftype_name: LLamaSharp marshals its static string as one to free, which crashes.)
    /// </summary>
    public string FileTypeName => _weights.NativeHandle.FileType.ToString().Replace("MOSTLY_", string.Empty, StringComparison.Ordinal).Replace("ALL_", string.Empty, StringComparison.Ordinal);

    public string Description => _weights.NativeHandle.Description;

    /// <summary>The Jinja chat template stored in the model, if any.</summary>
    public string? ChatTemplate => _weights.Metadata.GetValueOrDefault("tokenizer.chat_template");

    internal LLamaWeights Weights => _weights;

    /// <summary>What llama.cpp was built with and this CPU runs (the variant LLamaSharp chose).</summary>
    public static string SystemInfo => LlamaRuntime.SystemInfo;

    /// <summary>Validates the GGUF in managed code, then loads it with llama.cpp.</summary>
    public static LanguageModel Load(string path, LanguageModelOptions? options = null)
    {
        options ??= new LanguageModelOptions();
        var file = GgufFile.Read(path);
        LlamaRuntime.EnsureLoaded(); // before LLamaSharp's first native call (ModelParams reads llama.cpp's defaults)
        var parameters = new ModelParams(path)
        {
            GpuLayerCount = 0,
            LoadMode = options.MemoryMap ?? !ModelFootprint.IsRepacked(file.DominantTensorType) ? LLamaLoadMode.MemoryMap : LLamaLoadMode.None,
            VocabOnly = options.VocabularyOnly,
        };
        using var capture = LlamaRuntime.CaptureOnThisThread();
        try
        {
            return new LanguageModel(file, LLamaWeights.LoadFromFile(parameters));
        }
        catch (LLama.Exceptions.LoadWeightsFailedException)
        {
            throw new ModelFormatException(path, $"llama.cpp could not load it: {capture.LastProblem}");
        }
    }

    public LanguageContext CreateContext(LanguageContextOptions? options = null) => new(this, options ?? new LanguageContextOptions());

    /// <summary>Text to token ids, as the model's tokenizer splits it.</summary>
    public int[] Tokenize(string text, bool addSpecial, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = _weights.Tokenize(text, addSpecial, parseSpecial, Encoding.UTF8);
        var ids = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            ids[i] = (int)tokens[i];
        }

        return ids;
    }

    /// <summary>The bytes a token stands for (possibly part of a UTF-8 sequence).</summary>
    public byte[] TokenBytes(int token, bool renderSpecial = false)
    {
        Span<byte> buffer = stackalloc byte[64];
        var length = (int)_weights.NativeHandle.TokenToSpan(token, buffer, 0, renderSpecial);
        if (length <= buffer.Length)
        {
            return buffer[..length].ToArray();
        }

        var large = new byte[length];
        length = (int)_weights.NativeHandle.TokenToSpan(token, large, 0, renderSpecial);
        return large[..length];
    }

    /// <summary>Token ids back to text (special tokens left out).</summary>
    public string Detokenize(ReadOnlySpan<int> tokens)
    {
        var bytes = new List<byte>(tokens.Length * 4);
        foreach (var token in tokens)
        {
            bytes.AddRange(TokenBytes(token));
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    public bool IsEndOfGeneration(int token) => ((LLamaToken)token).IsEndOfGeneration(_weights.Vocab);

    /// <summary>Formats a conversation with the model's own chat template (llama.cpp's built-in renderer).</summary>
    public string ApplyChatTemplate(IReadOnlyList<(string Role, string Content)> messages, bool addAssistantPrefix = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (ChatTemplate is null)
        {
            throw new InvalidOperationException($"{File.Path}: the model has no chat template");
        }

        var template = new LLamaTemplate(_weights, true) { AddAssistant = addAssistantPrefix };
        foreach (var (role, content) in messages)
        {
            template.Add(role, content);
        }

        try
        {
            return Encoding.UTF8.GetString(template.Apply());
        }
        catch (Exception e) when (e is InvalidOperationException or LLama.Exceptions.RuntimeError)
        {
            throw new NativeEngineException("llama", "llama_chat_apply_template", -1, $"the model's chat template is not one llama.cpp can render ({e.Message})");
        }
    }

    public void Dispose() => _weights.Dispose();
}
