using VoiceHub.Core.Actuation;
using VoiceHub.Core.Intents;

namespace VoiceHub.Core.Pipeline;

/// <summary>One utterance's journey: what was heard and done, and how long each stage took.</summary>
public sealed record UtteranceTrace(
    long Number,
    TimeSpan StreamStart,
    TimeSpan StreamEnd,
    bool Woken,
    string? Transcript,
    string? Rejection,
    string Engine,
    int Tier,
    IntentResult? Result,
    ActuationReport? Actuation,
    string Response,
    IReadOnlyDictionary<string, double> StageMilliseconds,
    string? Error)
{
    /// <summary>Wall time from the end of speech (the endpoint) to the command's publication.</summary>
    public double? EndOfSpeechToActionMs => StageMilliseconds.TryGetValue("total", out var total) ? total : null;

    /// <summary>What the speaker waits: from the last voiced frame, through the endpointing pause, to the command's publication.</summary>
    public double? SpeechEndToActionMs => EndOfSpeechToActionMs is { } total ? total + StageMilliseconds.GetValueOrDefault("endpoint_wait") : null;
}
