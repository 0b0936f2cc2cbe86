using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Language;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;
using VoiceHub.Tests.Support;

namespace VoiceHub.Bench;

/// <summary>A model the catalog recommends, by the shape that sets its speed and memory.</summary>
internal sealed record LanguageModelShape(string Name, LlamaShape Shape);

/// <summary>A whisper size by its shape (the .en models share tiny.en's vocabulary and mel filters).</summary>
internal sealed record WhisperShape(string Name, int State, int Heads, int Layers);

/// <summary>
/// <c>bench slm</c> and <c>bench stt</c>: speed and memory at the sizes users install. No real
/// weights can be fetched here, and speed and memory depend on a model's architecture,
/// dimensions and quantization, not on what its weights learnt, so the models are written with the
/// published hyper-parameters and tensor shapes and random weights (GgufWriter,
/// WhisperModelWriter), then quantized by our own path (LanguageModelQuantizer) into the ladder's
/// tiers. Written once into artifacts/bench/models/shapes. Peak RSS is the kernel's high-water
/// mark, reset before each model (/proc/self/clear_refs).
/// </summary>
public static class ModelSizeBench
{
    /// <summary>Hyper-parameters as published in each model's config.json (Hugging Face, 2024).</summary>
    internal static IReadOnlyList<LanguageModelShape> LanguageModels { get; } =
    [
        new("SmolLM2-360M-Instruct", new LlamaShape(Embedding: 960, Layers: 32, Heads: 15, KvHeads: 5, FeedForward: 2560, Context: 8192, Architecture: "llama", Vocabulary: 49152, TiedEmbeddings: true, RopeFrequencyBase: 100000f)),
        new("Qwen2.5-0.5B-Instruct", new LlamaShape(Embedding: 896, Layers: 24, Heads: 14, KvHeads: 2, FeedForward: 4864, Context: 32768, Architecture: "qwen2", Vocabulary: 151936, TiedEmbeddings: true, RopeFrequencyBase: 1000000f)),
        new("Llama-3.2-1B-Instruct", new LlamaShape(Embedding: 2048, Layers: 16, Heads: 32, KvHeads: 8, FeedForward: 8192, Context: 131072, Architecture: "llama", Vocabulary: 128256, TiedEmbeddings: true, RopeFrequencyBase: 500000f)),
    ];

    /// <summary>whisper.cpp's tiny.en, base.en and small.en (OpenAI's model card dimensions).</summary>
    internal static IReadOnlyList<WhisperShape> WhisperModels { get; } =
    [
        new("tiny.en", 384, 6, 4),
        new("base.en", 512, 8, 6),
        new("small.en", 768, 12, 12),
    ];

    private static readonly string?[] s_tiers = [null, "Q8_0", "Q4_K_M", "Q4_0"];

    public static Command Slm()
    {
        var threads = new Option<int>("--threads") { Description = "Threads (the ladder's figures are for 2)", DefaultValueFactory = _ => 2 };
        var rounds = new Option<int>("--rounds") { Description = "Repetitions per figure (medians)", DefaultValueFactory = _ => 3 };
        var only = new Option<string?>("--model") { Description = "Only this model (a name from the catalog, e.g. Qwen2.5-0.5B-Instruct)" };
        var oneTier = new Option<string?>("--tier") { Description = "With --model: measure this one tier (F16, Q8_0, Q4_K_M, Q4_0) in this process and print it as JSON" };
        var noMap = new Option<bool>("--no-mmap") { Description = "Read all weights into memory (default: map the file unless its weights are of a type llama.cpp repacks)" };
        var command = new Command("slm", "The language-model tiers at real sizes: time to first token, tokens/s under the grammar, the whole intent, peak RSS") { threads, rounds, only, oneTier, noMap };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = SideBySide.RepositoryRoot();
            var n = parse.GetValue(threads);
            var r = parse.GetValue(rounds);
            if (parse.GetValue(oneTier) is { } tierName && LanguageModels.SingleOrDefault(m => m.Name == parse.GetValue(only)) is { } one)
            {
                var intents = IntentSet.Load(Path.Combine(root, "intents", "en"));
                var registry = DevicesFile.Load(Path.Combine(root, "src", "VoiceHub.App", "demo", "devices.yaml"));
                var f16 = WriteLanguageModel(root, one);
                var path = tierName == "F16" ? f16 : Quantized(f16, Enum.Parse<QuantizationType>(tierName));
                var measured = await MeasureSlmAsync(one.Name, tierName, path, intents, registry, n, r, !parse.GetValue(noMap), cancellationToken).ConfigureAwait(false);
                Console.WriteLine(JsonSerializer.Serialize(measured));
                return 0;
            }

            // Each tier in a process of its own: a model's freed memory must not count in the next one's peak.
            var rows = new List<SlmRow>();
            foreach (var model in LanguageModels.Where(m => parse.GetValue(only) is not { } name || m.Name == name))
            {
                foreach (var tier in s_tiers)
                {
                    string[] arguments = ["slm", "--model", model.Name, "--tier", tier ?? "F16", "--threads", $"{n}", "--rounds", $"{r}", .. parse.GetValue(noMap) ? ["--no-mmap"] : Array.Empty<string>()];
                    var row = await ChildAsync<SlmRow>(arguments, cancellationToken).ConfigureAwait(false);
                    rows.Add(row);
                    Console.WriteLine(row.Line());
                }
            }

            Console.WriteLine();
            Console.WriteLine(SlmRow.Header());
            rows.ForEach(r => Console.WriteLine(r.Line()));
            PrintLadder(rows);
            var plot = PlotSlm(root, rows);
            Console.WriteLine($"plot {plot}");
            Console.WriteLine($"saved {SideBySide.Save("slm", new { threads = parse.GetValue(threads), rows })}");
            return 0;
        });
        return command;
    }

    public static Command Stt()
    {
        var threads = new Option<int>("--threads") { Description = "Threads", DefaultValueFactory = _ => 2 };
        var rounds = new Option<int>("--rounds") { Description = "Repetitions per figure (medians)", DefaultValueFactory = _ => 3 };
        var only = new Option<string?>("--model") { Description = "Measure this one size (tiny.en, base.en, small.en) in this process and print it as JSON" };
        var command = new Command("stt", "Whisper at real sizes: encoder time and real-time factor for a 5 s command, peak RSS") { threads, rounds, only };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = SideBySide.RepositoryRoot();
            var n = parse.GetValue(threads);
            var r = parse.GetValue(rounds);
            // A real 5 s command: the fixture padded with silence (whisper's encoder always sees 30 s).
            var speech = AudioFile.ReadMono16k(Path.Combine(root, "audio-fixtures", "turn-on-the-kitchen-light.wav"));
            var command = new float[5 * 16000];
            speech.AsSpan(0, Math.Min(speech.Length, command.Length)).CopyTo(command);
            if (WhisperModels.SingleOrDefault(m => m.Name == parse.GetValue(only)) is { } one)
            {
                var measured = await MeasureSttAsync(one.Name, WriteWhisperModel(root, one), command, n, r, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(JsonSerializer.Serialize(measured));
                return 0;
            }

            var rows = new List<SttRow>();
            foreach (var shape in WhisperModels)
            {
                var row = await ChildAsync<SttRow>(["stt", "--model", shape.Name, "--threads", $"{n}", "--rounds", $"{r}"], cancellationToken).ConfigureAwait(false);
                rows.Add(row);
                Console.WriteLine(row.Line());
            }

            Console.WriteLine();
            Console.WriteLine(SttRow.Header());
            rows.ForEach(r => Console.WriteLine(r.Line()));
            Console.WriteLine($"saved {SideBySide.Save("stt", new { threads = parse.GetValue(threads), audio_seconds = 5, rows })}");
            return 0;
        });
        return command;
    }

    /// <summary>Runs this bench in a child process and reads the JSON row it prints last (its other lines pass through).</summary>
    private static async Task<T> ChildAsync<T>(string[] arguments, CancellationToken cancellationToken)
    {
        var self = typeof(ModelSizeBench).Assembly.Location;
        var start = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet"
            ? new ProcessStartInfo(Environment.ProcessPath!, [self, .. arguments])
            : new ProcessStartInfo(Environment.ProcessPath!, arguments);
        start.RedirectStandardOutput = true;
        using var process = Process.Start(start)!;
        string? last = null;
        while (await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith('{'))
            {
                last = line;
            }
            else
            {
                Console.WriteLine(line);
            }
        }

        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return process.ExitCode == 0 && last is not null
            ? JsonSerializer.Deserialize<T>(last)!
            : throw new InvalidOperationException($"bench {string.Join(' ', arguments)} failed (exit {process.ExitCode})");
    }

    // ----- the language model -----

    internal sealed record SlmRow(
        string Model, string Tier, double FileMiB, double ParametersMillions, int PromptTokens, double LoadMs,
        double FirstTokenUncachedMs, double FirstTokenCachedMs, double GrammarTokensPerSecond, double IntentUncachedMs, double IntentCachedMs,
        int IntentTokens, double PeakRssMiB, double EstimateMiB)
    {
        public static string Header() =>
            $"{"model",-22} {"tier",-7} {"file MiB",9} {"prompt",7} {"ttft cold ms",13} {"ttft cached",12} {"tok/s",7} {"intent cold ms",15} {"intent cached",14} {"tokens",7} {"peak RSS MiB",13} {"estimate",9}";

        public string Line() =>
            $"{Model,-22} {Tier,-7} {FileMiB,9:0} {PromptTokens,7} {FirstTokenUncachedMs,13:0} {FirstTokenCachedMs,12:0} {GrammarTokensPerSecond,7:0.0} {IntentUncachedMs,15:0} {IntentCachedMs,14:0} {IntentTokens,7} {PeakRssMiB,13:0} {EstimateMiB,9:0}";
    }

    private static string WriteLanguageModel(string root, LanguageModelShape model)
    {
        var path = Path.Combine(root, "artifacts", "bench", "models", "shapes", $"{model.Name}.F16.gguf");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var clock = Stopwatch.StartNew();
            GgufWriter.WriteLlama(path + ".part", model.Shape, name: $"{model.Name} (shape only, random weights)");
            File.Move(path + ".part", path);
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1048576.0:0} MiB) in {clock.Elapsed.TotalSeconds:0} s");
        }

        return path;
    }

    private static string Quantized(string f16, QuantizationType type)
    {
        var path = f16.Replace(".F16.gguf", $".{LanguageModelQuantizer.FileSuffix(type)}.gguf", StringComparison.Ordinal);
        if (!File.Exists(path))
        {
            var clock = Stopwatch.StartNew();
            LanguageModelQuantizer.Quantize(f16, path, type);
            Console.WriteLine($"quantized {Path.GetFileName(path)} ({new FileInfo(path).Length / 1048576.0:0} MiB) in {clock.Elapsed.TotalSeconds:0} s");
        }

        return path;
    }

    private static async Task<SlmRow> MeasureSlmAsync(string name, string tier, string path, IntentSet intents, DeviceRegistry registry, int threads, int rounds, bool memoryMap, CancellationToken cancellationToken)
    {
        GC.Collect();
        PeakMemory.Reset();
        var loadClock = Stopwatch.StartNew();
        using var model = LanguageModel.Load(path, new LanguageModelOptions { MemoryMap = memoryMap ? null : false });
        var loadMs = loadClock.Elapsed.TotalMilliseconds;
        using var fallback = new SlmIntentFallback(model, registry, intents, new SlmOptions { Threads = threads, Timeout = TimeSpan.FromMinutes(10), MaxTokens = 48 });
        var context = fallback.Context;
        var prefix = model.Tokenize(fallback.SystemPart, addSpecial: true);
        var grammar = new CommandSchema(registry, Shortlist.Select(registry, "turn on the kitchen light", 8), []).Grammar;

        async Task<(double First, double PerSecond)> GenerateAsync(int variant, bool clear, int tokens)
        {
            if (clear)
            {
                await context.ClearCacheAsync().ConfigureAwait(false);
            }

            var suffix = model.Tokenize($"\nDevices: Kitchen light (light, Kitchen)\nCommand: please switch on kitchen light number {variant}\n", addSpecial: false);
            using var sampler = new LanguageSampler(model, new LanguageSamplerOptions { Grammar = grammar });
            var clock = Stopwatch.StartNew();
            double first = 0;
            var count = 0;
            await foreach (var piece in context.GenerateAsync([.. prefix, .. suffix], sampler, maxTokens: tokens, cancellationToken).ConfigureAwait(false))
            {
                if (count++ == 0)
                {
                    first = clock.Elapsed.TotalMilliseconds;
                }
            }

            var rest = clock.Elapsed.TotalMilliseconds - first;
            return (first, count > 1 ? (count - 1) / (rest / 1000) : 0);
        }

        var cold = new List<double>();
        var warm = new List<double>();
        var speeds = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            cold.Add((await GenerateAsync(i, clear: true, tokens: 1).ConfigureAwait(false)).First);
            var (first, perSecond) = await GenerateAsync(100 + i, clear: false, tokens: 24).ConfigureAwait(false);
            warm.Add(first);
            speeds.Add(perSecond);
        }

        // The whole grammar-bounded intent, as the hub runs it: prompt to closed JSON.
        var intentCold = new List<double>();
        var intentWarm = new List<double>();
        var intentTokens = 0;
        var none = new Dictionary<string, string>();
        for (var i = 0; i < rounds; i++)
        {
            await context.ClearCacheAsync().ConfigureAwait(false);
            intentCold.Add(await SideBySide.TimeAsync(() => fallback.RecognizeAsync($"could you make the kitchen a bit brighter {i}", none, cancellationToken)).ConfigureAwait(false));
            var before = context.TokensGenerated;
            intentWarm.Add(await SideBySide.TimeAsync(() => fallback.RecognizeAsync($"I'd like some light in the kitchen {i}", none, cancellationToken)).ConfigureAwait(false));
            intentTokens = (int)(context.TokensGenerated - before);
        }

        return new SlmRow(
            name, tier, new FileInfo(path).Length / 1048576.0, model.ParameterCount / 1e6, prefix.Length, loadMs,
            new Samples("cold", cold).Median, new Samples("warm", warm).Median, new Samples("speed", speeds).Median,
            new Samples("intent cold", intentCold).Median, new Samples("intent warm", intentWarm).Median, intentTokens,
            PeakMemory.HighWaterMiB(), ModelFootprint.EstimateBytes(path, 2048, 512) / 1048576.0);
    }

    /// <summary>What each step down the ladder buys: speed and memory against the rung above.</summary>
    private static void PrintLadder(List<SlmRow> rows)
    {
        Console.WriteLine();
        Console.WriteLine("the thermal ladder: each step down against the rung above (same model)");
        foreach (var group in rows.GroupBy(r => r.Model))
        {
            var list = group.ToList();
            for (var i = 1; i < list.Count; i++)
            {
                var (above, below) = (list[i - 1], list[i]);
                Console.WriteLine($"  {group.Key,-22} {above.Tier,-6} -> {below.Tier,-6} prompt x{above.FirstTokenUncachedMs / below.FirstTokenUncachedMs:0.00} faster, tokens/s x{below.GrammarTokensPerSecond / above.GrammarTokensPerSecond:0.00}, peak RSS {below.PeakRssMiB - above.PeakRssMiB:+0;-0} MiB ({below.PeakRssMiB / above.PeakRssMiB:P0})");
            }
        }
    }

    private static string PlotSlm(string root, List<SlmRow> rows)
    {
        var plot = new ScottPlot.Plot();
        foreach (var group in rows.GroupBy(r => r.Model))
        {
            var list = group.ToList();
            var scatter = plot.Add.Scatter(list.Select(r => r.PeakRssMiB).ToArray(), list.Select(r => r.GrammarTokensPerSecond).ToArray());
            scatter.LegendText = group.Key;
            foreach (var row in list)
            {
                plot.Add.Text(row.Tier, row.PeakRssMiB, row.GrammarTokensPerSecond);
            }
        }

        plot.Title($"Language-model tiers: speed against memory ({Environment.ProcessorCount} cores, x86-64)");
        plot.XLabel("peak RSS (MiB)");
        plot.YLabel("tokens/s under the command grammar");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        var path = Path.Combine(root, "artifacts", "bench", "slm.png");
        plot.SavePng(path, 900, 600);
        return path;
    }

    // ----- whisper -----

    internal sealed record SttRow(string Model, double FileMiB, double LoadMs, double EncoderMs, double TranscribeMs, double RealTimeFactor, double PeakRssMiB, double EstimateMiB)
    {
        public static string Header() => $"{"model",-10} {"file MiB",9} {"load ms",8} {"encoder ms",11} {"transcribe ms",14} {"RTF (5 s)",10} {"peak RSS MiB",13} {"estimate",9}";

        public string Line() => $"{Model,-10} {FileMiB,9:0} {LoadMs,8:0} {EncoderMs,11:0} {TranscribeMs,14:0} {RealTimeFactor,10:0.000} {PeakRssMiB,13:0} {EstimateMiB,9:0}";
    }

    private static string WriteWhisperModel(string root, WhisperShape shape)
    {
        var path = Path.Combine(root, "artifacts", "bench", "models", "shapes", $"ggml-{shape.Name}.shape.bin");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WhisperModelWriter.Write(path + ".part", state: shape.State, heads: shape.Heads, layers: shape.Layers);
            File.Move(path + ".part", path);
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1048576.0:0} MiB)");
        }

        return path;
    }

    private static async Task<SttRow> MeasureSttAsync(string name, string path, float[] audio, int threads, int rounds, CancellationToken cancellationToken)
    {
        GC.Collect();
        PeakMemory.Reset();
        var encoder = new List<double>();
        var whole = new List<double>();
        var loadClock = Stopwatch.StartNew();
        double loadMs;
        double peak;
        // One decoded token: the time is the encoder's (plus one decoder step). Random weights would
        // otherwise decode gibberish up to the token limit, which says nothing about a real command.
        using (var encoderOnly = new WhisperEngine(path, Options(threads, maxTokens: 1), null, DeviceRegistry.Empty))
        {
            loadMs = loadClock.Elapsed.TotalMilliseconds;
            await encoderOnly.TranscribeAsync(audio, cancellationToken).ConfigureAwait(false); // warm up
            for (var i = 0; i < rounds; i++)
            {
                encoder.Add(await SideBySide.TimeAsync(() => encoderOnly.TranscribeAsync(audio, cancellationToken)).ConfigureAwait(false));
            }

            peak = PeakMemory.HighWaterMiB();
        }

        // A command's worth of decoding (16 tokens) after the encoder.
        using (var full = new WhisperEngine(path, Options(threads, maxTokens: 16), null, DeviceRegistry.Empty))
        {
            for (var i = 0; i < rounds; i++)
            {
                whole.Add(await SideBySide.TimeAsync(() => full.TranscribeAsync(audio, cancellationToken)).ConfigureAwait(false));
            }
        }

        var transcribe = new Samples("whole", whole).Median;
        return new SttRow(name, new FileInfo(path).Length / 1048576.0, loadMs, new Samples("encoder", encoder).Median, transcribe, transcribe / 5000, peak, ModelFootprint.EstimateBytes(path) / 1048576.0);
    }

    private static WhisperEngineOptions Options(int threads, int maxTokens) => new()
    {
        Threads = threads,
        MaxTokens = maxTokens,
        PromptWithNames = false,
        FlashAttention = true,
        MinimumAverageLogProbability = float.NegativeInfinity,
        NoSpeechThreshold = 1.0f,
        Timeout = TimeSpan.FromMinutes(5),
    };
}

/// <summary>The process's peak resident memory, as the kernel counts it (VmHWM), with a reset between models.</summary>
internal static class PeakMemory
{
    /// <summary>Resets the high-water mark to the current RSS (Linux 4.0+: "5" to clear_refs).</summary>
    public static void Reset() => File.WriteAllText("/proc/self/clear_refs", "5");

    public static double HighWaterMiB()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
