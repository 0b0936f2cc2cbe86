using System.Threading.Channels;

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

    /// <summary>A timer finished and its alarm is being announced until "stop".</summary>
    Ringing,

    /// <summary>The hub is asking for its wake phrase and recording it (learning the user's voice).</summary>
    Enrolling,

    /// <summary>Something failed: a stage, the pipeline, or a command that could not be delivered in time.</summary>
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
/// The hub's observable state, and its one owner: written by the pipeline, the scheduler and the
/// mute controls, read by the LEDs and the Home Assistant announcer. Every change raises
/// <see cref="Changed"/> with a consistent snapshot, in order, on the status's own delivery task:
/// never on the writer's thread, so a slow or failing listener (an MQTT publish, a GPIO line)
/// cannot hold up or break the audio loop.
/// </summary>
public sealed class HubStatus : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Channel<Delivery> _deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Action<Exception>? _listenerFailed;
    private HubSnapshot _snapshot = new(PipelineState.Starting, false, null, null, new Dictionary<string, double>(), null, "unknown", false);

    /// <param name="listenerFailed">Told when a listener throws (the others still hear of the change).</param>
    public HubStatus(Action<Exception>? listenerFailed = null)
    {
        _listenerFailed = listenerFailed;
        _ = Task.Run(DeliverAsync);
    }

    /// <summary>Raised on the delivery task after every change.</summary>
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

    public void ToggleMuted() => Update(s => s with { Muted = !s.Muted });

    public void RecordUtterance(string? transcript, string? intent, IReadOnlyDictionary<string, double> stageMilliseconds) =>
        Update(s => s with { LastTranscript = transcript, LastIntent = intent, StageMilliseconds = stageMilliseconds });

    public void SetThermal(double? cpuTemperatureCelsius, bool throttled, string modelTier) =>
        Update(s => s with { CpuTemperatureCelsius = cpuTemperatureCelsius, Throttled = throttled, ModelTier = modelTier });

    public void SetRoomClimate(Gpio.RoomClimate reading) => Update(s => s with { Room = reading });

    /// <summary>Completes once every listener has heard of every change made before the call.</summary>
    public Task DeliveredAsync()
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_deliveries.Writer.TryWrite(new Delivery(null, delivered)))
        {
            delivered.TrySetResult(); // disposed: nothing more will be delivered
        }

        return delivered.Task;
    }

    /// <summary>Stops delivering changes (what was queued is still delivered).</summary>
    public void Dispose() => _deliveries.Writer.TryComplete();

    private void Update(Func<HubSnapshot, HubSnapshot> change)
    {
        lock (_lock)
        {
            var next = change(_snapshot);
            if (next == _snapshot)
            {
                return;
            }

            _snapshot = next;
            _deliveries.Writer.TryWrite(new Delivery(next, null)); // under the lock: queued in the order made
        }
    }

    private async Task DeliverAsync()
    {
        await foreach (var delivery in _deliveries.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (delivery.Snapshot is { } snapshot && Changed is { } changed)
            {
                foreach (var listener in changed.GetInvocationList().Cast<Action<HubSnapshot>>())
                {
                    try
                    {
                        listener(snapshot);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        Report(e);
                    }
                }
            }

            delivery.Delivered?.TrySetResult();
        }
    }

    private void Report(Exception e)
    {
        try
        {
            _listenerFailed?.Invoke(e);
        }
        catch (Exception) when (e is not OutOfMemoryException)
        {
            // Reporting failed too (a logger already disposed at shutdown): delivery goes on.
        }
    }

    private sealed record Delivery(HubSnapshot? Snapshot, TaskCompletionSource? Delivered);
}
