using System.CommandLine;
using Microsoft.Extensions.Options;
using VoiceHub.Core.Configuration;
using VoiceHub.Native;
using VoiceHub.Native.Grammar;

namespace VoiceHub.App.Cli;

/// <summary>A problem with what the user gave a verb (a file, a flag's value); exit code 2.</summary>
public sealed class InputException(string message) : Exception(message);

/// <summary>
/// The <c>voicehub</c> command line (verbs fixed by docs/interface-contract.md). Every verb exits 0
/// on success and otherwise prints one line to stderr: what input was wrong and how.
/// </summary>
public static class CliApplication
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, Stream? input = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var root = new RootCommand("VoiceHub: an offline voice assistant for the smart home.");
        var io = new CliIo(output, error, input ?? Console.OpenStandardInput());
        root.Subcommands.Add(RunCommand.Create(io));
        root.Subcommands.Add(DoctorCommand.Create(io));
        root.Subcommands.Add(ParseCommand.Create(io));
        root.Subcommands.Add(SpeechCommands.Transcribe(io));
        root.Subcommands.Add(SpeechCommands.Recognize(io));
        root.Subcommands.Add(AdaptCommand.Create(io));
        root.Subcommands.Add(WakeCommands.Wake(io));
        root.Subcommands.Add(EvalCommand.Create(io));
        root.Subcommands.Add(ModelsCommand.Create(io));

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var verb = parse.CommandResult.Command.Name;
            await error.WriteLineAsync($"voicehub {verb}: {parse.Errors[0].Message} (see voicehub {verb} --help)").ConfigureAwait(false);
            return BadInput;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }).ConfigureAwait(false);
    }

    /// <summary>Runs a verb's body, turning the expected failures into one line on stderr.</summary>
    public static async Task<int> Guard(CliIo io, string verb, Func<Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(io);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e) when (e is InputException or Core.Wake.Neural.WakeModelException or Core.Wake.Neural.WakeEnrollmentException or Core.Wake.WakePhraseException or ModelFormatException or ConfigurationFileException or GbnfException or OptionsValidationException or Core.Audio.AudioFormatException
            // A file or folder that is missing or unreadable (named on the command line or in the configuration); the message names it.
            or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            await io.Error.WriteLineAsync($"voicehub {verb}: {OneLine(e.Message)}").ConfigureAwait(false);
            return BadInput;
        }
        catch (Exception e) when (e is NativeLibraryNotFoundException or NativeEngineException)
        {
            await io.Error.WriteLineAsync($"voicehub {verb}: {OneLine(e.Message)}").ConfigureAwait(false);
            return Failure;
        }
        catch (OperationCanceledException)
        {
            await io.Error.WriteLineAsync($"voicehub {verb}: cancelled").ConfigureAwait(false);
            return Failure;
        }
    }

    public static string OneLine(string message) => PrintableText.Escape(message.ReplaceLineEndings(" ").Trim());
}

/// <summary>Where a verb writes: stdout for results, stderr for problems.</summary>
public sealed record CliIo(TextWriter Output, TextWriter Error, Stream Input);
