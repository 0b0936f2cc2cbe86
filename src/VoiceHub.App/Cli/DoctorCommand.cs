using System.CommandLine;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Diagnostics;
using VoiceHub.Core.Hosting;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Models;
using VoiceHub.Core.Mqtt;
using VoiceHub.Core.Thermal;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub doctor</c>: every dependency, one line each, OK or what to do.</summary>
public static class DoctorCommand
{
    public static Command Create(CliIo io)
    {
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file" };
        var command = new Command("doctor", "Check native engines, libraries, models, audio devices, MQTT broker, thermal sources and GPIO")
        {
            config,
        };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "doctor", async () =>
        {
            using var configuration = AppConfiguration.Load(parse.GetValue(config)?.FullName);
            var doctor = new Doctor(configuration.Get<ModelsOptions>(), configuration.Get<MqttOptions>(), new MachineRoots());
            var findings = (await doctor.RunAsync(cancellationToken).ConfigureAwait(false)).Concat(Worker(configuration)).ToList();
            foreach (var finding in findings)
            {
                var status = finding.Status switch
                {
                    FindingStatus.Ok => "OK  ",
                    FindingStatus.Warning => "WARN",
                    _ => "FIX ",
                };
                await io.Output.WriteLineAsync($"{status}  {finding.Subject,-20} {finding.Detail}").ConfigureAwait(false);
            }

            return findings.Any(f => f.Status == FindingStatus.Fix) ? CliApplication.Failure : CliApplication.Success;
        }));
        return command;
    }

    /// <summary>What the worker will do here: its ladder, the throttle state, catalog models, systemd.</summary>
    private static IEnumerable<Finding> Worker(AppConfiguration configuration)
    {
        var scheduler = configuration.Get<SchedulerOptions>();
        var ladder = ModelSets.BuildLadder(scheduler, configuration.Get<SlmOptions>());
        yield return new Finding(FindingStatus.Ok, "scheduler", $"ladder {string.Join(" -> ", ladder.Select(t => $"{t.Name} (stt {t.Stt}{(t.WhisperModel.Length > 0 ? " " + t.WhisperModel : string.Empty)}, slm {(t.SlmModel.Length > 0 ? t.SlmModel : "configured")})"))}; down at {scheduler.HighWaterCelsius} °C or a throttle bit, up after {scheduler.Hold.TotalSeconds:0} s below {scheduler.LowWaterCelsius} °C");

        var reading = new ThermalMonitor(scheduler.SysRoot, scheduler.Vcgencmd).Read();
        yield return reading.IsThrottled
            ? new Finding(FindingStatus.Warning, "throttling", $"the board is held back now ({reading.Throttle}{(reading.FrequencyCapped ? ", cpufreq capped" : string.Empty)}): check the power supply and cooling; the hub runs a lighter tier meanwhile")
            : new Finding(FindingStatus.Ok, "throttling", reading.Throttle == ThrottleState.None ? $"none{(reading.FrequencyRatio is { } ratio ? $", cpufreq at {ratio:P0} of maximum" : string.Empty)}" : $"not now (since boot: {reading.Throttle})");

        if (File.Exists(ModelCatalog.DefaultPath))
        {
            var catalog = ModelCatalog.Load(ModelCatalog.DefaultPath);
            var directory = configuration.Get<ModelsOptions>().Directory;
            var installed = catalog.Models.Where(m => File.Exists(Path.Combine(directory, m.File))).Select(m => m.Name).ToList();
            yield return installed.Count > 0
                ? new Finding(FindingStatus.Ok, "catalog models", $"installed: {string.Join(", ", installed)}")
                : new Finding(FindingStatus.Warning, "catalog models", "none installed: the hub uses pocketsphinx and templates; for open speech run voicehub models download whisper-base.en");
        }

        using var notifier = new SystemdNotifier();
        yield return new Finding(FindingStatus.Ok, "systemd", notifier.IsActive
            ? $"notify socket set{(notifier.WatchdogInterval is { } watchdog ? $", watchdog every {watchdog.TotalSeconds:0} s" : ", no watchdog")}"
            : "not started by systemd (READY/WATCHDOG are skipped); the unit is systemd/voicehub.service");
    }
}
