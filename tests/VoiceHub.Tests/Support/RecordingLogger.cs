using Microsoft.Extensions.Logging;

namespace VoiceHub.Tests.Support;

/// <summary>A logger that keeps what was logged, to check that bad input gets exactly one clear warning.</summary>
public sealed class RecordingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message)];
            }
        }
    }

    public IReadOnlyList<string> All
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries.Select(e => e.Message)];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}

/// <summary>Every category's logger writes into one <see cref="RecordingLogger"/> (for a whole host).</summary>
public sealed class RecordingLoggerProvider(RecordingLogger logger) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void Dispose()
    {
    }
}
