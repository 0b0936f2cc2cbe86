using System.CommandLine;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub run</c>: the appliance worker.</summary>
public static class RunCommand
{
    public static Command Create(CliIo io)
    {
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file (none: embedded defaults)" };
        var input = new Option<string?>("--input") { Description = "WAV file to play as the microphone, or alsa:DEVICE" };
        var once = new Option<bool>("--once") { Description = "Exit when the input ends and its commands are published" };
        var command = new Command("run", "Run the appliance: listen, wake, understand, act") { config, input, once };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "run", async () =>
        {
            await io.Error.WriteLineAsync("voicehub run: the set-up is complete, but the appliance worker is not built yet (see the issues); try voicehub doctor").ConfigureAwait(false);
            return CliApplication.Failure;
        }));
        return command;
    }
}
