using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Language;
using VoiceHub.Core.Models;

namespace VoiceHub.App.Cli;

/// <summary><c>voicehub models list|download|verify|quantize</c>: the models users fetch (no model ships in the image), and lighter ones made from them.</summary>
public static class ModelsCommand
{
    public static Command Create(CliIo io)
    {
        var config = new Option<FileInfo?>("--config") { Description = "YAML configuration file (for models.directory)", Recursive = true };
        var catalog = new Option<string>("--catalog") { Description = "Model catalog", DefaultValueFactory = _ => ModelCatalog.DefaultPath, Recursive = true };
        var command = new Command("models", "Known models: list them, download one (resumable, checked), verify installed ones, quantize one for a lighter tier") { config, catalog };

        var list = new Command("list", "Known models and whether they are installed");
        list.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "models list", async () =>
        {
            var (models, directory) = Load(parse.GetValue(config), parse.GetValue(catalog)!);
            await io.Output.WriteLineAsync($"models directory: {directory}").ConfigureAwait(false);
            foreach (var model in models.Models)
            {
                var path = Path.Combine(directory, model.File);
                var installed = File.Exists(path) ? "installed" : "-";
                var size = model.SizeMib is { } mib ? string.Create(CultureInfo.InvariantCulture, $"{mib} MiB") : "size unpublished";
                await io.Output.WriteLineAsync($"{model.Name,-30} {model.Kind,-8} {size,-17} {installed,-10} {model.Note}").ConfigureAwait(false);
            }

            return CliApplication.Success;
        }));

        var name = new Argument<string>("NAME") { Description = "A model name from `voicehub models list`" };
        var mirror = new Option<string?>("--mirror") { Description = "Fetch from this base URL instead of the catalog's (a local mirror)" };
        var download = new Command("download", "Download a model into the models directory (resumes; checks format and checksum)") { name, mirror };
        download.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "models download", async () =>
        {
            var (models, directory) = Load(parse.GetValue(config), parse.GetValue(catalog)!);
            var model = models.Find(parse.GetValue(name)!) ?? throw new InputException($"no model called '{parse.GetValue(name)}' (see voicehub models list)");
            var mirrorText = parse.GetValue(mirror) ?? Environment.GetEnvironmentVariable("VOICEHUB_MODEL_MIRROR");
            Uri? mirrorUri = null;
            if (!string.IsNullOrEmpty(mirrorText) && !Uri.TryCreate(mirrorText.EndsWith('/') ? mirrorText : mirrorText + "/", UriKind.Absolute, out mirrorUri))
            {
                throw new InputException($"--mirror {mirrorText}: not a URL");
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            var downloader = new ModelDownloader(http);
            string path;
            try
            {
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(io.Error) });
                path = await console.Progress().AutoClear(true).StartAsync(async context =>
                {
                    var task = context.AddTask(model.Name, maxValue: (model.SizeMib ?? 1) * 1048576.0);
                    var progress = new Progress<DownloadProgress>(p =>
                    {
                        if (p.Total is { } total)
                        {
                            task.MaxValue = total;
                        }

                        task.Value = p.Received;
                    });
                    return await downloader.DownloadAsync(model, directory, progress, mirrorUri, cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            catch (ModelDownloadException e)
            {
                throw new InputException(e.Message);
            }

            await io.Output.WriteLineAsync($"{model.Name}: {ModelCatalog.Verify(path, model).Detail}; saved {path}").ConfigureAwait(false);
            return CliApplication.Success;
        }));

        var files = new Argument<string[]>("NAME") { Arity = ArgumentArity.ZeroOrMore, Description = "Model names or files (none: every installed model)" };
        var verify = new Command("verify", "Check installed models' format and checksum") { files };
        verify.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "models verify", async () =>
        {
            var (models, directory) = Load(parse.GetValue(config), parse.GetValue(catalog)!);
            var asked = parse.GetValue(files)!;
            var checks = asked.Length == 0
                ? models.Models.Where(m => File.Exists(Path.Combine(directory, m.File))).Select(m => ModelCatalog.Verify(Path.Combine(directory, m.File), m)).ToList()
                : [.. asked.Select(a => models.Find(a) is { } m ? ModelCatalog.Verify(Path.Combine(directory, m.File), m) : ModelCatalog.Verify(a, null))];
            if (checks.Count == 0)
            {
                await io.Output.WriteLineAsync($"no catalog model is installed in {directory}").ConfigureAwait(false);
            }

            foreach (var check in checks)
            {
                await (check.Ok ? io.Output : io.Error).WriteLineAsync($"{check.File}: {(check.Ok ? "OK" : "BAD")}: {check.Detail}").ConfigureAwait(false);
            }

            return checks.All(c => c.Ok) ? CliApplication.Success : CliApplication.BadInput;
        }));

        var source = new Argument<string>("FILE") { Description = "GGUF model to quantize (a name in the models directory, or a path)" };
        var type = new Option<QuantizationType>("--type") { Description = "Weight type of the result: Q8_0, Q4_K_M or Q4_0 (the thermal ladder's rungs)", DefaultValueFactory = _ => QuantizationType.Q4_0 };
        var output = new Option<string?>("--output") { Description = "Where to write it (default: beside the source, as NAME.TYPE.gguf)" };
        var quantize = new Command("quantize", "Make a lighter GGUF for a cooler-running tier (llama.cpp's quantizer)") { source, type, output };
        quantize.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "models quantize", async () =>
        {
            using var configuration = AppConfiguration.Load(parse.GetValue(config)?.FullName);
            var from = ModelPaths.Resolve(parse.GetValue(source)!, configuration.Get<ModelsOptions>());
            var to = parse.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(from)!, $"{Path.GetFileNameWithoutExtension(from)}.{LanguageModelQuantizer.FileSuffix(parse.GetValue(type))}.gguf");
            if (Path.GetFullPath(from) == Path.GetFullPath(to))
            {
                throw new InputException($"{to}: the quantized model must not overwrite its source");
            }

            var result = LanguageModelQuantizer.Quantize(from, to, parse.GetValue(type));
            await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{to}: {result.DominantTensorType}, {new FileInfo(to).Length / (1024.0 * 1024.0):F1} MiB (from {new FileInfo(from).Length / (1024.0 * 1024.0):F1} MiB)")).ConfigureAwait(false);
            return CliApplication.Success;
        }));

        command.Subcommands.Add(list);
        command.Subcommands.Add(download);
        command.Subcommands.Add(verify);
        command.Subcommands.Add(quantize);
        return command;
    }

    private static (ModelCatalog Catalog, string Directory) Load(FileInfo? config, string catalog)
    {
        using var configuration = AppConfiguration.Load(config?.FullName);
        if (!File.Exists(catalog))
        {
            throw new InputException($"{catalog}: no such model catalog");
        }

        return (ModelCatalog.Load(catalog), configuration.Get<ModelsOptions>().Directory);
    }
}
