using VoiceHub.Core.Hub;
using VoiceHub.Core.Pipeline;

namespace VoiceHub.Core.Hosting;

/// <summary>
/// Tells systemd WATCHDOG=1 twice per watchdog interval unless an utterance has been stuck in a
/// stage for a whole interval (then systemd restarts the service), and keeps its STATUS line current.
/// A missing microphone is not a hang (the source retries); an utterance stuck in a stage is.
/// </summary>
public sealed class HubWatchdog(SystemdNotifier notifier, VoicePipeline pipeline, HubStatus status, TimeProvider? clock = null) : IDisposable
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private ITimer? _timer;

    /// <summary>Starts pinging (nothing when systemd asked for no watchdog).</summary>
    public void Start()
    {
        if (notifier.WatchdogInterval is { } interval)
        {
            _timer = _clock.CreateTimer(_ => Tick(interval), null, TimeSpan.Zero, interval / 2);
        }
    }

    private void Tick(TimeSpan interval)
    {
        if (pipeline.BusySince is not { } busy || _clock.GetUtcNow() - busy < interval)
        {
            notifier.Watchdog();
        }

        notifier.Status($"{status.Snapshot.State.ToString().ToLowerInvariant()}; last: {status.Snapshot.LastTranscript ?? "-"}");
    }

    public void Dispose() => _timer?.Dispose();
}
