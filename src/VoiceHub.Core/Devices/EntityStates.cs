using VoiceHub.Core.Configuration;

namespace VoiceHub.Core.Devices;

/// <summary>What an entity reports now: its state ("on", "open", "21.5", "unavailable") and attributes.</summary>
public sealed record EntityState(string? State, IReadOnlyDictionary<string, object?> Attributes, DateTimeOffset Updated);

/// <summary>Live entity states (from state topics and GPIO), for answers to "is the garage door open?".</summary>
public interface IEntityStates
{
    /// <summary>The latest reported state, or null when the entity has not reported one.</summary>
    EntityState? Find(string entityId);
}
