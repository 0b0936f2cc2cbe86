using System.Text;
using LLama.Native;

namespace VoiceHub.Core.Language;

/// <summary>
/// llama.cpp as LLamaSharp.Backend.Cpu ships it (the CPU variant, noavx to avx512 or arm64, is
/// chosen by LLamaSharp at load). llama.cpp's logger is process-wide by its design, so this is the
/// one place that owns it: it keeps what llama.cpp said on a thread during one call (the reason a
/// model failed to load or a grammar was rejected) instead of letting it print to stderr.
/// </summary>
internal static class LlamaRuntime
{
    [ThreadStatic]
    private static StringBuilder? t_capture;

    private static readonly Lazy<bool> s_loaded = new(() =>
    {
        NativeLibraryConfig.All.WithLogCallback(OnMessage);
        NativeApi.llama_empty_call(); // loads the library now, so the first real call (e.g. the quantizer) finds it
        return true;
    });

    [ThreadStatic]
    private static LLamaLogLevel t_lastLevel; // a continuation line carries the level of the line it continues

    /// <summary>Configures logging and loads llama.cpp; idempotent.</summary>
    public static void EnsureLoaded() => _ = s_loaded.Value;

    public static string SystemInfo
    {
        get
        {
            EnsureLoaded();
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info()) ?? string.Empty;
        }
    }

    /// <summary>Collects the warnings and errors llama.cpp logs on this thread until disposed.</summary>
    public static Capture CaptureOnThisThread()
    {
        EnsureLoaded();
        t_capture = new StringBuilder();
        return new Capture(t_capture);
    }

    private static void OnMessage(LLamaLogLevel level, string message)
    {
        var effective = level == LLamaLogLevel.Continue ? t_lastLevel : level;
        t_lastLevel = effective;
        if (effective >= LLamaLogLevel.Warning)
        {
            t_capture?.Append(message);
        }
    }

    /// <summary>What llama.cpp said on this thread since the capture began.</summary>
    public readonly struct Capture(StringBuilder said) : IDisposable
    {
        /// <summary>The last warning or error line, or a placeholder when llama.cpp said nothing.</summary>
        public string LastProblem
        {
            get
            {
                var lines = said.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return lines.Length > 0 ? lines[^1] : "llama.cpp gave no reason";
            }
        }

        public void Dispose() => t_capture = null;
    }
}
