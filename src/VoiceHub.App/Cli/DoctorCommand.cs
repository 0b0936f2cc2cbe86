using System.CommandLine;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Diagnostics;

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
            var findings = await doctor.RunAsync(cancellationToken).ConfigureAwait(false);
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
}
