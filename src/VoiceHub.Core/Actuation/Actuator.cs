using Microsoft.Extensions.Logging;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.HomeAssistant;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Mqtt;

namespace VoiceHub.Core.Actuation;

/// <summary>How one target fared.</summary>
public enum TargetStatus
{
    /// <summary>The broker has the command (or the GPIO line was driven).</summary>
    Done,

    /// <summary>Waiting in the outbox for the broker; it will be sent or reported as expired.</summary>
    Queued,

    /// <summary>Not carried out (no binding, or the device cannot do it).</summary>
    Failed,
}

public sealed record TargetOutcome(string EntityId, string Via, TargetStatus Status, string? Problem, TimeSpan Latency);

/// <summary>What acting on an intent did, target by target.</summary>
public sealed record ActuationReport(IntentResult Result, IReadOnlyList<TargetOutcome> Targets)
{
    public bool AllDone => Targets.All(t => t.Status == TargetStatus.Done);

    public IEnumerable<TargetOutcome> Failures => Targets.Where(t => t.Status == TargetStatus.Failed);
}

/// <summary>
/// Carries out understood intents on their targets: GPIO-bound entities by driving their line,
/// MQTT entities by publishing what Home Assistant would publish, through the outbox. Waits a
/// short moment for the broker's acknowledgement so the answer can be honest ("done" vs "queued").
/// Every result is also published for automations, custom intents included.
/// </summary>
public sealed partial class Actuator(MqttBus? bus, GpioHub? gpio, EntityStateStore states, HomeAssistantBridge? bridge, ILogger logger, TimeProvider? clock = null)
{
    /// <summary>Intents that change devices; others (questions, timers, custom intents) only get published.</summary>
    public static readonly IReadOnlySet<string> ActingIntents = new HashSet<string>(StringComparer.Ordinal)
    {
        IntentNames.TurnOn, IntentNames.TurnOff, IntentNames.Toggle, IntentNames.LightSet, IntentNames.OpenCover, IntentNames.CloseCover, IntentNames.SetPosition,
        IntentNames.ClimateSetTemperature, IntentNames.MediaPause, IntentNames.MediaUnpause, IntentNames.MediaNext, IntentNames.MediaPrevious, IntentNames.SetVolume,
        IntentNames.Lock, IntentNames.Unlock,
    };

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>How long to wait for the broker before answering "queued".</summary>
    public TimeSpan AcknowledgementWait { get; init; } = TimeSpan.FromSeconds(2);

    public async Task<ActuationReport> ExecuteAsync(IntentResult result, DeviceRegistry registry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(registry);
        bridge?.PublishIntent(result, _clock.GetUtcNow());
        if (result.Status != IntentStatus.Ok || result.Intent is null || !ActingIntents.Contains(result.Intent))
        {
            return new ActuationReport(result, []);
        }

        var outcomes = await Task.WhenAll(result.Targets.Select(id => ActOnAsync(result, registry.FindEntity(id), id, cancellationToken))).ConfigureAwait(false);
        foreach (var failure in outcomes.Where(o => o.Status == TargetStatus.Failed))
        {
            LogFailed(logger, result.Intent, failure.EntityId, failure.Problem ?? "failed");
        }

        return new ActuationReport(result, outcomes);
    }

    private async Task<TargetOutcome> ActOnAsync(IntentResult result, Entity? entity, string id, CancellationToken cancellationToken)
    {
        var started = _clock.GetTimestamp();
        if (entity is null)
        {
            return new TargetOutcome(id, "none", TargetStatus.Failed, "is not in the device registry", TimeSpan.Zero);
        }

        if (entity.Gpio is not null && gpio is not null)
        {
            var current = gpio.OutputState(entity.Id);
            bool? on = result.Intent switch
            {
                IntentNames.TurnOn => true,
                IntentNames.TurnOff => false,
                IntentNames.Toggle => current != true,
                IntentNames.LightSet when result.Slots.TryGetValue("brightness", out var b) => Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture) > 0,
                _ => null,
            };
            if (on is null)
            {
                return new TargetOutcome(id, "gpio", TargetStatus.Failed, $"a GPIO line cannot do {result.Intent}", TimeSpan.Zero);
            }

            if (!gpio.SetOutput(entity.Id, on.Value))
            {
                return new TargetOutcome(id, "gpio", TargetStatus.Failed, $"its GPIO line ({entity.Gpio.Chip} line {entity.Gpio.Line}) is not available", TimeSpan.Zero);
            }

            states.Set(entity.Id, on.Value ? "on" : "off");
            return new TargetOutcome(id, "gpio", TargetStatus.Done, null, _clock.GetElapsedTime(started));
        }

        if (entity.Mqtt is null || bus is null)
        {
            return new TargetOutcome(id, "none", TargetStatus.Failed, entity.Mqtt is null ? "has no MQTT or GPIO binding" : "MQTT is not configured", TimeSpan.Zero);
        }

        IReadOnlyList<DeviceCommand> commands;
        try
        {
            commands = MqttCommandBuilder.Build(result, entity, states.Find(entity.Id));
        }
        catch (Exception e) when (e is ActuationException or TemplateNotSupportedException)
        {
            return new TargetOutcome(id, "mqtt", TargetStatus.Failed, e is ActuationException a ? a.Reason : e.Message, TimeSpan.Zero);
        }

        var receipts = commands.Select(c => bus.SendCommandAsync(c.Topic, c.Payload, c.Retain)).ToList();
        var all = Task.WhenAll(receipts);
        await Task.WhenAny(all, Task.Delay(AcknowledgementWait, _clock, cancellationToken)).ConfigureAwait(false);
        if (!all.IsCompleted)
        {
            return new TargetOutcome(id, "mqtt", TargetStatus.Queued, null, _clock.GetElapsedTime(started));
        }

        var outcomes = await all.ConfigureAwait(false);
        return outcomes.All(r => r.Outcome == CommandOutcome.Delivered)
            ? new TargetOutcome(id, "mqtt", TargetStatus.Done, null, _clock.GetElapsedTime(started))
            : new TargetOutcome(id, "mqtt", TargetStatus.Failed, "the broker was unreachable until the command expired", _clock.GetElapsedTime(started));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Intent} on {Entity} not carried out: {Problem}")]
    private static partial void LogFailed(ILogger logger, string intent, string entity, string problem);
}
