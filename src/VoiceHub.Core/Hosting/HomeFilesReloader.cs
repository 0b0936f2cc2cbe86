using Microsoft.Extensions.Logging;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Models;

namespace VoiceHub.Core.Hosting;

/// <summary>
/// Reloads the intents and the devices file when either changes on disk and rebuilds the model
/// sets for them in the background; a file that no longer reads keeps the home the hub has.
/// </summary>
public sealed partial class HomeFilesReloader(HubFiles files, TimeSpan checkInterval, Home home, ModelSets models, ILogger logger) : IDisposable
{
    private FileReloader? _reloader;

    public void Start() => _reloader = new FileReloader([files.Intents, files.Devices], checkInterval, Reload);

    private void Reload()
    {
        try
        {
            var intents = IntentSet.Load(files.Intents);
            home.ReplaceDevicesFile(DevicesFile.Load(files.Devices));
            _ = models.UpdateAsync(intents, home.Current);
            LogReloaded(logger, files.Intents, files.Devices);
        }
        catch (Exception e) when (e is ConfigurationFileException or IOException or UnauthorizedAccessException or ArgumentException or FormatException)
        {
            LogReloadFailed(logger, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // This runs on a timer thread, where an exception would end the process: whatever an
            // edited file does, the hub keeps the home it has.
            LogReloadCrashed(logger, e);
        }
    }

    public void Dispose() => _reloader?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded {Intents} and {Devices}")]
    private static partial void LogReloaded(ILogger logger, string intents, string devices);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reload failed, keeping the previous intents and devices: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reload failed unexpectedly, keeping the previous intents and devices")]
    private static partial void LogReloadCrashed(ILogger logger, Exception exception);
}

/// <summary>The files the hub's home is made of, as resolved at start.</summary>
/// <param name="Intents">The intents (a YAML file or a folder).</param>
/// <param name="Devices">The devices file.</param>
/// <param name="StateDirectory">Where the outbox, the private broker and debug recordings live.</param>
public sealed record HubFiles(string Intents, string Devices, string StateDirectory);
