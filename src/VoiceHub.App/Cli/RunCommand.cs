using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoiceHub.App.Worker;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Pipeline;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub run</c>: the appliance worker, a Generic Host around <see cref="HubService"/>.</summary>
public static class RunCommand
{
    public static Command Create(CliIo io)
    {
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file (none: embedded defaults)" };
        var input = new Option<string?>("--input") { Description = "WAV file to play as the microphone, or alsa:DEVICE" };
        var once = new Option<bool>("--once") { Description = "Exit when the input ends and its commands are published" };
        var fast = new Option<bool>("--fast") { Description = "Read a WAV input as fast as it decodes, not in real time (answers are not played)" };
        var command = new Command("run", "Run the appliance: listen, wake, understand, act") { config, input, once, fast };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "run", async () =>
        {
            var file = parse.GetValue(config)?.FullName;
            // Loading validates every section: a bad setting is one line here, not a host start-up failure.
            AppConfiguration.Load(file).Dispose();

            var wav = parse.GetValue(input);
            if (wav is not null && !wav.StartsWith("alsa:", StringComparison.Ordinal))
            {
                if (!File.Exists(wav) && !Directory.Exists(wav))
                {
                    throw new InputException($"{wav}: no such file");
                }

                if (new FileInfo(wav).Length > 0)
                {
                    // The headers only (a FIFO has no length and is left unread): a file that is no WAV is
                    // one line now, before a broker and models are started for it.
                    using (Core.Audio.WavReader.Open(wav))
                    {
                    }
                }
            }

            Exception? failure = null;
            var settings = new RunSettings
            {
                Input = wav is null || wav.StartsWith("alsa:", StringComparison.Ordinal) ? wav : Path.GetFullPath(wav),
                Once = parse.GetValue(once),
                Fast = parse.GetValue(fast),
                Report = trace => io.Output.WriteLine(Describe(trace)),
                Announce = line => io.Output.WriteLine($"voicehub: {line}"),
                EmbeddedDefaults = file is null,
                Failed = e => failure = e,
            };
            using var host = Build(file, settings);
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                // The host stops quietly when its service fails: say why, and exit so systemd restarts it.
                await io.Error.WriteLineAsync($"voicehub run: {CliApplication.OneLine(failure.Message)}").ConfigureAwait(false);
                return CliApplication.Failure;
            }

            return CliApplication.Success;
        }));
        return command;
    }

    public static IHost Build(string? configFile, RunSettings settings, Action<IServiceCollection>? replace = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        if (configFile is not null)
        {
            builder.Configuration.AddYamlFile(configFile, optional: false);
        }

        builder.Configuration.AddEnvironmentVariables("VOICEHUB__");
        builder.Services.AddVoiceHubOptions(builder.Configuration);
        builder.Services.AddVoiceHub(settings);
        builder.Services.Configure<HostOptions>(o =>
        {
            o.ShutdownTimeout = TimeSpan.FromSeconds(10);
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
        {
            builder.Logging.AddSystemdConsole(); // journald priorities, one line per entry
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout is for what was heard and done
        }

        replace?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>One line per utterance: what was heard, what it became, what was done and said.</summary>
    public static string Describe(UtteranceTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var at = trace.StreamEnd.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        if (trace.Error is not null)
        {
            return $"[{at} s] failed: {trace.Error}";
        }

        if (trace.Transcript is null)
        {
            return $"[{at} s] heard nothing usable ({trace.Rejection})";
        }

        var result = trace.Result!;
        var did = trace.Actuation is { Targets.Count: > 0 } report
            ? string.Join(", ", report.Targets.Select(t => $"{t.EntityId} via {t.Via}: {t.Status.ToString().ToLowerInvariant()}{(t.Problem is null ? string.Empty : $" ({t.Problem})")}"))
            : result.Status.ToString().ToLowerInvariant();
        var timings = string.Join(", ", trace.StageMilliseconds.Where(s => s.Key != "speak").Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Value:0.#} ms")));
        return $"[{at} s] heard \"{trace.Transcript}\" -> {result.Intent ?? "no intent"} -> {did}; said \"{trace.Response}\" ({timings})";
    }
}
