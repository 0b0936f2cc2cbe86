using VoiceHub.Native.ModelFiles;

namespace VoiceHub.Native.Whisper;

/// <summary>
/// A whisper.cpp model loaded once (weights only: <c>whisper_init_*_no_state</c>); transcription
/// runs in <see cref="WhisperSession"/>s, each with its own native state.
/// </summary>
public sealed class WhisperModel : IDisposable
{
    private readonly WhisperContextHandle _context;

    private WhisperModel(WhisperModelFile file, WhisperContextHandle context)
    {
        File = file;
        _context = context;
    }

    public WhisperModelFile File { get; }

    internal WhisperContextHandle Handle => _context;

    public bool IsMultilingual => Interop.Whisper.whisper_is_multilingual(_context) != 0;

    /// <summary>The engine's version string, e.g. "1.9.1".</summary>
    public static unsafe string EngineVersion =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)Interop.Whisper.whisper_version()) ?? "unknown";

    public static unsafe string SystemInfo =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)Interop.Whisper.whisper_print_system_info()) ?? string.Empty;

    /// <summary>Validates the file in managed code, then loads it; never hands a malformed file to whisper.cpp.</summary>
    public static WhisperModel Load(string path, WhisperModelOptions? options = null)
    {
        options ??= new WhisperModelOptions();
        var file = WhisperModelFile.Read(path);
        NativeLog.Whisper.Install();
        var parameters = Interop.Whisper.whisper_context_default_params();
        parameters.use_gpu = false;
        parameters.flash_attn = options.FlashAttention;
        using var capture = NativeLog.Whisper.CaptureOnThisThread();
        var context = Interop.Whisper.whisper_init_from_file_with_params_no_state(path, parameters);
        if (context.IsInvalid)
        {
            context.Dispose();
            throw new ModelFormatException(path, $"whisper.cpp could not load it: {capture.LastProblem}");
        }

        return new WhisperModel(file, context);
    }

    public WhisperSession CreateSession() => new(this);

    public void Dispose() => _context.Dispose();
}

/// <summary>How a whisper model is loaded.</summary>
public sealed record WhisperModelOptions
{
    /// <summary>Flash attention in the encoder and decoder (faster on CPU for larger models).</summary>
    public bool FlashAttention { get; init; } = true;
}
