using System.Text.Json.Serialization;
using VoiceHub.Core.Devices;

namespace VoiceHub.Core.Intents;

/// <summary>What the hub should do with an understood (or not understood) utterance.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<IntentStatus>))]
public enum IntentStatus
{
    /// <summary>An intent with everything it needs: act on the targets.</summary>
    [JsonStringEnumMemberName("ok")]
    Ok,

    /// <summary>Nothing matched: say so, do nothing.</summary>
    [JsonStringEnumMemberName("no_match")]
    NoMatch,

    /// <summary>Understood but ambiguous (which light?): ask, do nothing yet.</summary>
    [JsonStringEnumMemberName("clarify")]
    Clarify,

    /// <summary>Understood, but policy wants a yes first (unlocking, opening covers).</summary>
    [JsonStringEnumMemberName("confirm")]
    Confirm,

    /// <summary>Understood but impossible (no such device in that room, value out of range).</summary>
    [JsonStringEnumMemberName("error")]
    Error,
}

/// <summary>
/// The structured command an utterance became. The JSON fields <c>text, intent, slots, targets,
/// source</c> are the interface contract; the rest are extensions.
/// </summary>
public sealed record IntentResult
{
    public required string Text { get; init; }

    /// <summary>The intent name, or null when nothing matched.</summary>
    public string? Intent { get; init; }

    /// <summary>Slot values: display names for names, areas and floors; numbers as numbers.</summary>
    public IReadOnlyDictionary<string, object> Slots { get; init; } = new Dictionary<string, object>();

    /// <summary>Entity ids the command acts on (empty until it is unambiguous and allowed).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];

    /// <summary>"template", "fuzzy" or "slm"; null when nothing matched.</summary>
    public string? Source { get; init; }

    public IntentStatus Status { get; init; }

    /// <summary>What the hub says back.</summary>
    public string Response { get; init; } = string.Empty;

    /// <summary>Entities a clarification or confirmation is about (not acted on yet).</summary>
    [JsonPropertyName("pending_targets")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<string>? PendingTargets { get; init; }

    /// <summary>The template sentence that matched, for debugging templates.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sentence { get; init; }

    /// <summary>How close the fuzzy stage found the closest template sentence (0–1); null for the other stages.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Confidence { get; init; }

    public static IntentResult NoMatch(string text, string response = "Sorry, I didn't understand that.") =>
        new() { Text = text, Status = IntentStatus.NoMatch, Response = response };
}
