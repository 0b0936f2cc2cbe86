using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace VoiceHub.Native;

public enum NativeLogLevel
{
    None = 0,
    Debug = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
    Continuation = 5,
}

/// <summary>
/// Receives an engine's log (ggml_log_callback). The engines' loggers are process-wide by their
/// design, so there is one instance per engine; it keeps recent warnings for diagnostics, lets a
/// caller capture what the engine said during one call on its thread (the reason a model failed
/// to load), and forwards everything to subscribers instead of printing to stderr.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One instance per engine lives as long as the process, like the engine's logger.")]
public sealed unsafe class NativeLog
{
    private const int RecentCapacity = 32;
    private readonly Queue<string> _recent = new();
    private readonly ThreadLocal<StringBuilder?> _capture = new();
    private readonly Lock _lock = new();
    private GCHandle _self;
    private int _installed;
    private NativeLogLevel _lastLevel;

    private NativeLog(string engine) => Engine = engine;

    public static NativeLog Llama { get; } = new("llama");

    public string Engine { get; }

    /// <summary>Raised for every message at or above <see cref="NativeLogLevel.Debug"/>, on the engine's thread.</summary>
    public event Action<NativeLogLevel, string>? MessageLogged;

    public IReadOnlyList<string> RecentWarnings
    {
        get
        {
            lock (_lock)
            {
                return [.. _recent];
            }
        }
    }

    /// <summary>Routes the engine's log here; idempotent.</summary>
    public void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1)
        {
            return;
        }

        _self = GCHandle.Alloc(this);
        var user = GCHandle.ToIntPtr(_self);
        Interop.Llama.llama_log_set(&OnMessage, user);
    }

    /// <summary>Collects the warnings and errors the engine logs on this thread until disposed.</summary>
    public Capture CaptureOnThisThread()
    {
        _capture.Value = new StringBuilder();
        return new Capture(this);
    }

    [UnmanagedCallersOnly]
    private static void OnMessage(int level, byte* text, nint user)
    {
        try
        {
            if (GCHandle.FromIntPtr(user).Target is NativeLog log && text is not null)
            {
                log.Handle((NativeLogLevel)level, Marshal.PtrToStringUTF8((nint)text) ?? string.Empty);
            }
        }
#pragma warning disable CA1031 // An exception must never unwind into native code.
        catch
        {
        }
#pragma warning restore CA1031
    }

    private void Handle(NativeLogLevel level, string text)
    {
        var effective = level == NativeLogLevel.Continuation ? _lastLevel : level;
        _lastLevel = effective;
        if (effective >= NativeLogLevel.Warning)
        {
            _capture.Value?.Append(text);
            var line = text.TrimEnd();
            if (line.Length > 0)
            {
                lock (_lock)
                {
                    _recent.Enqueue(line);
                    if (_recent.Count > RecentCapacity)
                    {
                        _recent.Dequeue();
                    }
                }
            }
        }

        MessageLogged?.Invoke(effective, text);
    }

    /// <summary>A capture of what the engine said on one thread.</summary>
    public readonly struct Capture(NativeLog log) : IDisposable
    {
        /// <summary>The last warning or error line, or a placeholder when the engine said nothing.</summary>
        public string LastProblem
        {
            get
            {
                var text = log._capture.Value?.ToString() ?? string.Empty;
                var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return lines.Length > 0 ? lines[^1] : "the engine gave no reason";
            }
        }

        public void Dispose() => log._capture.Value = null;
    }
}
