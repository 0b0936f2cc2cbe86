using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Hosting;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Models;
using VoiceHub.Core.Mqtt;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Thermal;

namespace VoiceHub.App.Worker;

/// <summary>
/// The appliance's worker: opens one run of the hub (its stages, as <see cref="HubComposition"/>
/// wires them), builds the models of the current rung, and runs the pipeline over the microphone,
/// restarting it with a backoff when it fails, so the hub keeps listening; systemd hears READY,
/// STATUS and the watchdog.
/// </summary>
public sealed partial class HubService(
    IServiceScopeFactory scopes,
    IOptions<AudioOptions> audio,
    IOptions<PipelineOptions> pipeline,
    IOptions<MqttOptions> mqtt,
    RunSettings run,
    SystemdNotifier notifier,
    IHostApplicationLifetime lifetime,
    ILogger<HubService> logger) : BackgroundService
{
    private static string DemoWav => Path.Combine(AppContext.BaseDirectory, "demo", "demo.wav");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        MqttBus? bus = null;
        try
        {
            // Disposed when the run has ended: never while a stage may still be decoding (a shutdown
            // that times out leaves the models to the process exit instead).
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var hub = scope.ServiceProvider;
                var conversation = hub.GetRequiredService<VoicePipeline>();
                var status = hub.GetRequiredService<HubStatus>();
                bus = hub.GetRequiredService<MqttConnection>().Bus;
                var initial = await Task.Run(() => hub.GetRequiredService<ModelSets>().BuildInitial(), stoppingToken).ConfigureAwait(false);
                status.SetThermal(null, false, initial.Description);
                hub.GetRequiredService<ThermalScheduler>().Start();
                hub.GetRequiredService<HomeFilesReloader>().Start();
                hub.GetRequiredService<HubWatchdog>().Start();
                _ = hub.GetRequiredService<Core.Wake.HubWakeEnrollment>(); // from now on, Home Assistant's "Learn wake word" button works
                var input = ChooseInput();
                notifier.Ready($"listening on {input}, {initial.Description}");
                await ListenAsync(conversation, status, input, bus, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !(stoppingToken.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested))
        {
            run.Failed?.Invoke(e); // the host stops; `voicehub run` exits non-zero so systemd restarts it
            throw;
        }

        if (bus is { LostAtShutdown: > 0 })
        {
            // Logged by the bus; the exit status tells systemd (and a script) that commands were lost.
            run.Failed?.Invoke(new IOException($"{bus.LostAtShutdown} undelivered command(s) lost at shutdown: the outbox could not be written"));
        }
    }

    /// <summary>
    /// The configured input; on a first look without configuration and without a microphone, the
    /// demo recording. Never with a configuration (the appliance): there it waits for the microphone.
    /// </summary>
    private string ChooseInput()
    {
        var input = run.Input ?? audio.Value.Input;
        if (run.Input is null && run.EmbeddedDefaults && input.StartsWith("alsa:", StringComparison.Ordinal) && File.Exists(DemoWav)
            && AudioSources.CannotCapture(input["alsa:".Length..], audio.Value) is { } why)
        {
            run.Announce?.Invoke($"no microphone ({why}); playing {DemoWav} instead (give --input alsa:DEVICE or a WAV)");
            return DemoWav;
        }

        return input;
    }

    /// <summary>Runs the pipeline over the input, restarting it when it fails, until the input ends (files) or the hub stops.</summary>
    private async Task ListenAsync(VoicePipeline conversation, HubStatus status, string input, MqttBus bus, CancellationToken stoppingToken)
    {
        var live = input.StartsWith("alsa:", StringComparison.Ordinal);
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            var source = AudioSources.Create(input, audio.Value, realTime: !run.Fast, logger);
            run.Announce?.Invoke($"listening on {source.Name}{(pipeline.Value.WakeRequired ? $" for \"{string.Join("\", \"", conversation.WakePhrases)}\"" : string.Empty)}");
            try
            {
                await conversation.RunAsync(source, stoppingToken).ConfigureAwait(false);
                if (!live)
                {
                    break; // a file ended
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (AudioFormatException) when (!live)
            {
                throw; // a file that cannot be read will not read better on the next try: the run ends with its one line
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPipelineFailed(logger, e, delay.TotalSeconds);
                status.SetState(PipelineState.Error);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }

        // The input ended: every command it caused is published (or expired) before --once exits.
        var deadline = DateTime.UtcNow + mqtt.Value.CommandExpiry;
        while (bus.Health is { Pending: > 0 } or { InFlight: > 0 } && DateTime.UtcNow < deadline && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(50, stoppingToken).ConfigureAwait(false);
        }

        if (run.Once)
        {
            lifetime.StopApplication();
        }
        else
        {
            run.Announce?.Invoke("the input ended; still serving MQTT and Home Assistant (Ctrl-C to stop)");
            await Task.Delay(Timeout.InfiniteTimeSpan, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // the run (its scope) stays open until the hub stops
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        notifier.Stopping();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The pipeline failed; restarting it in {Seconds} s")]
    private static partial void LogPipelineFailed(ILogger logger, Exception exception, double seconds);
}
