using VoiceHub.Core.Pipeline;

namespace VoiceHub.App.Worker;

/// <summary>What the command line asked of this run.</summary>
public sealed record RunSettings
{
    /// <summary>A WAV file or alsa:DEVICE replacing the configured input.</summary>
    public string? Input { get; init; }

    /// <summary>Stop when the input ends and its commands are published.</summary>
    public bool Once { get; init; }

    /// <summary>Read a file input as fast as it decodes instead of in real time.</summary>
    public bool Fast { get; init; }

    /// <summary>Told about every utterance (the CLI prints what was heard and done).</summary>
    public Action<UtteranceTrace>? Report { get; init; }

    /// <summary>Told when something noteworthy happens (which input, which broker).</summary>
    public Action<string>? Announce { get; init; }

    /// <summary>Run without a configuration file: the demo home, and the demo recording when there is no microphone.</summary>
    public bool EmbeddedDefaults { get; init; }

    /// <summary>Told when the hub fails for good (the host then stops; the command exits non-zero).</summary>
    public Action<Exception>? Failed { get; init; }
}
