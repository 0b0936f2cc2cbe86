namespace VoiceHub.Core.Hub;

/// <summary>Where the pipeline is; LEDs, Home Assistant and the journal show it.</summary>
public enum PipelineState
{
    Starting,
    Listening,
    Woken,
    Hearing,
    Transcribing,
    Understanding,
    Acting,
    Answering,
    FollowUp,
    Error,
}

/// <summary>A snapshot of what the hub shows the world.</summary>
public sealed record HubSnapshot(
    PipelineState State,
    bool Muted,
    string? LastTranscript,
    string? LastIntent,
    IReadOnlyDictionary<string, double> StageMilliseconds,
    double? CpuTemperatureCelsius,
    string ModelTier,
    bool Throttled)
{
    /// <summary>The room sensor's last reading, when the hub has one.</summary>
    public Gpio.RoomClimate? Room { get; init; }
}

/// <summary>
/// The hub's observable state, written by the pipeline, the scheduler and the mute controls,
/// read by the LEDs and the Home Assistant announcer. Every change raises <see cref="Changed"/>
/// with a consistent snapshot.
/// </summary>
public sealed class HubStatus
{
    private readonly Lock _lock = new();
    private HubSnapshot _snapshot = new(PipelineState.Starting, false, null, null, new Dictionary<string, double>(), null, "unknown", false);

    public event Action<HubSnapshot>? Changed;

    public HubSnapshot Snapshot
    {
        get
        {
            lock (_lock)
            {
                return _snapshot;
            }
        }
    }

    public bool Muted => Snapshot.Muted;

    public void SetState(PipelineState state) => Update(s => s with { State = state });

    public void SetMuted(bool muted) => Update(s => s with { Muted = muted });

    public void RecordUtterance(string? transcript, string? intent, IReadOnlyDictionary<string, double> stageMilliseconds) =>
        Update(s => s with { LastTranscript = transcript, LastIntent = intent, StageMilliseconds = stageMilliseconds });

    public void SetThermal(double? cpuTemperatureCelsius, bool throttled, string modelTier) =>
        Update(s => s with { CpuTemperatureCelsius = cpuTemperatureCelsius, Throttled = throttled, ModelTier = modelTier });

    public void SetRoomClimate(Gpio.RoomClimate reading) => Update(s => s with { Room = reading });

    private void Update(Func<HubSnapshot, HubSnapshot> change)
    {
        HubSnapshot next;
        lock (_lock)
        {
            next = change(_snapshot);
            if (next == _snapshot)
            {
                return;
            }

            _snapshot = next;
        }

        Changed?.Invoke(next);
    }
}
