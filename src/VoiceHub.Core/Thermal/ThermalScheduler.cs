using Microsoft.Extensions.Logging;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Models;

namespace VoiceHub.Core.Thermal;

/// <summary>
/// Polls the thermal sources and moves the model sets down or up the ladder (the switch itself
/// happens between utterances); the hub's status shows the reading and the tier.
/// </summary>
public sealed partial class ThermalScheduler(SchedulerOptions options, ModelSets models, HubStatus status, ILogger logger, TimeProvider? clock = null) : IDisposable
{
    private readonly ThermalMonitor _monitor = new(options.SysRoot, options.Vcgencmd);
    private TierScheduler? _decide;
    private ITimer? _timer;
    private int _busy;

    /// <summary>Starts polling, from the tier the models were built at.</summary>
    public void Start()
    {
        _decide = new TierScheduler(options, models.Tiers.Count, startRung: models.Current.Tier);
        _timer = (clock ?? TimeProvider.System).CreateTimer(_ => Poll(), null, TimeSpan.Zero, options.PollInterval);
    }

    /// <summary>One reading and decision; skipped while the previous one is still being taken.</summary>
    public void Poll()
    {
        if (_decide is null || Interlocked.Exchange(ref _busy, 1) == 1)
        {
            return;
        }

        try
        {
            var reading = _monitor.Read();
            if (_decide.Update(reading) is { } decision)
            {
                LogTier(logger, models.Tiers[decision.From].Name, models.Tiers[decision.To].Name, decision.Reason);
                _ = models.SwitchTierAsync(decision.To);
            }

            status.SetThermal(reading.HottestCelsius, reading.IsThrottled, models.Tiers[_decide.Current].Name);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogThermalFailed(logger, e.Message); // the hub keeps its tier and tries again next time
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    public void Dispose() => _timer?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the thermal sources failed: {Reason}")]
    private static partial void LogThermalFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduler: {From} -> {To} ({Reason})")]
    private static partial void LogTier(ILogger logger, string from, string to, string reason);
}
