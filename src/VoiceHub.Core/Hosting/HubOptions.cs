namespace VoiceHub.Core.Hosting;

/// <summary>What the hub knows and where it keeps its state (section <c>hub</c>).</summary>
public sealed class HubOptions
{
    public const string Section = "hub";

    /// <summary>Intent files (a YAML file or a folder); empty: the shipped English intents.</summary>
    public string Intents { get; set; } = string.Empty;

    /// <summary>The devices file; empty: the demo home (until MQTT discovery brings the real one).</summary>
    public string Devices { get; set; } = string.Empty;

    /// <summary>Where the outbox, the private broker and debug recordings live; empty: $STATE_DIRECTORY (systemd) or ~/.local/state/voicehub.</summary>
    public string StateDirectory { get; set; } = string.Empty;

    /// <summary>How often intents and devices files are checked for changes.</summary>
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Keeps the last utterances as WAVs with their traces, for bug reports (off unless <c>utterances</c> is set).</summary>
    public Diagnostics.DebugRecordingOptions DebugRecording { get; set; } = new();

    public string ResolveStateDirectory()
    {
        if (StateDirectory.Length > 0)
        {
            return StateDirectory;
        }

        var systemd = Environment.GetEnvironmentVariable("STATE_DIRECTORY");
        if (!string.IsNullOrEmpty(systemd))
        {
            return systemd.Split(':')[0];
        }

        var home = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        return Path.Combine(string.IsNullOrEmpty(home) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state") : home, "voicehub");
    }
}
