using System.CommandLine;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Core.Language;
using VoiceHub.Native.Grammar;
using VoiceHub.Tests.Support;

namespace VoiceHub.Bench;

/// <summary>
/// <c>bench intents</c>: the template path's latency per utterance (p50/p95/p99 over thousands of
/// single recognitions) with a 500-entity home and every shipped intent, target p95 at most 2 ms;
/// the language model's time to first token with its fixed prompt prefix cached versus evaluated
/// from scratch, target at least 5x faster cached; and memory. <c>--bdn</c> adds the
/// BenchmarkDotNet suite (allocations per recognition).
/// </summary>
public static class IntentsBench
{
    public static Command Command()
    {
        var entities = new Option<int>("--entities") { Description = "Entities in the synthetic home", DefaultValueFactory = _ => 500 };
        var runs = new Option<int>("--runs") { Description = "Timed recognitions", DefaultValueFactory = _ => 5000 };
        var model = new Option<string?>("--llama-model") { Description = "GGUF model for time to first token (default: the generated 220M-parameter Q4_0 llama)" };
        var bdn = new Option<bool>("--bdn") { Description = "Also run the BenchmarkDotNet suite" };
        var command = new Command("intents", "Template latency, SLM time to first token cached vs uncached, memory") { entities, runs, model, bdn };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = SideBySide.RepositoryRoot();
            var report = new Dictionary<string, object>();
            var (intents, registry, recognizer) = Build(root, parse.GetValue(entities));
            var utterances = Utterances(registry);
            report["templates"] = Templates(recognizer, utterances, parse.GetValue(runs));
            report["fuzzy"] = Fuzzy(recognizer, Paraphrases(registry), parse.GetValue(runs) / 5);
            report["slm"] = await TimeToFirstTokenAsync(parse.GetValue(model) ?? NativeBench.GeneratedLlama(root), intents, registry).ConfigureAwait(false);
            report["memory"] = new { rss_mib = Environment.WorkingSet / 1048576.0, managed_heap_mib = GC.GetTotalMemory(forceFullCollection: true) / 1048576.0 };
            Console.WriteLine($"memory: process RSS {Environment.WorkingSet / 1048576.0:0.0} MiB (both models loaded), managed heap {GC.GetTotalMemory(true) / 1048576.0:0.0} MiB");
            Console.WriteLine($"saved {SideBySide.Save("intents", report)}");
            if (parse.GetValue(bdn))
            {
                BenchmarkRunner.Run<TemplateRecognition>(DefaultConfig.Instance
                    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
                    .AddColumn(StatisticColumn.P95)
                    .AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default)
                    .WithOptions(ConfigOptions.DisableOptimizationsValidator));
            }

            return 0;
        });
        return command;
    }

    internal static (IntentSet Intents, DeviceRegistry Registry, IntentRecognizer Recognizer) Build(string root, int entities)
    {
        var intents = IntentSet.Load(Path.Combine(root, "intents", "en"));
        var registry = SyntheticHome.Create(entities);
        return (intents, registry, IntentRecognizer.Create(intents, registry));
    }

    /// <summary>Commands of every kind about the synthetic home, a slip of the tongue, and sentences that match nothing.</summary>
    internal static List<(string Text, Dictionary<string, string> Context)> Utterances(DeviceRegistry registry)
    {
        var random = new Random(11);
        var none = new Dictionary<string, string>();
        var list = new List<(string, Dictionary<string, string>)>();
        var lights = registry.Entities.Where(e => e.Domain == "light").ToList();
        var switches = registry.Entities.Where(e => e.Domain == "switch").ToList();
        for (var i = 0; i < 40; i++)
        {
            var light = lights[random.Next(lights.Count)];
            var area = registry.Areas[random.Next(registry.Areas.Count)];
            list.Add(($"turn on the {light.Name}", none));
            list.Add(($"switch off the {switches[random.Next(switches.Count)].Name}", none));
            list.Add(($"set the {light.Name} to {random.Next(1, 100)} percent", none));
            list.Add(($"turn off the lights in the {area.Name}", none));
            list.Add(("turn on the lights", new Dictionary<string, string> { ["area"] = area.Name }));
            list.Add(($"what's the temperature in the {area.Name}", none));
            list.Add(($"set a timer for {random.Next(1, 60)} minutes", none));
            list.Add(($"is the {light.Name} on", none));
        }

        list.Add(("turn on the kitchen ceiling lite", none)); // a slip: the fuzzy second pass
        list.Add(("what is the meaning of life", none)); // no match: every template and the fuzzy pass
        list.Add(("open the pod bay doors", none));
        list.Add(("pause the music", none));
        return list;
    }

    /// <summary>Commands about the synthetic home in words no template has, and speech that is no command: all go past the templates to the fuzzy stage.</summary>
    internal static List<(string Text, Dictionary<string, string> Context)> Paraphrases(DeviceRegistry registry)
    {
        var random = new Random(12);
        var none = new Dictionary<string, string>();
        var list = new List<(string, Dictionary<string, string>)>();
        var lights = registry.Entities.Where(e => e.Domain == "light").ToList();
        for (var i = 0; i < 20; i++)
        {
            var light = lights[random.Next(lights.Count)];
            var area = registry.Areas[random.Next(registry.Areas.Count)];
            list.Add(($"I'd like the {light.Name} on", none));
            list.Add(($"can I have the {light.Name} at {random.Next(1, 100)} percent", none));
            list.Add(($"lights off in the {area.Name} now", none));
            list.Add(($"tell me the temperature in the {area.Name}", none));
        }

        list.Add(("can I get a large light roast latte with milk", none));
        list.Add(("I left the kitchen light on yesterday", none));
        list.Add(("what's the weather like tomorrow", none));
        return list;
    }

    /// <summary>The fuzzy stage: building it from the templates, then templates plus fuzzy per utterance the templates miss.</summary>
    private static object Fuzzy(IntentRecognizer recognizer, List<(string Text, Dictionary<string, string> Context)> utterances, int runs)
    {
        var build = Stopwatch.StartNew();
        var fuzzy = new FuzzyMatcher(recognizer.Matcher);
        var buildMs = build.Elapsed.TotalMilliseconds;
        foreach (var (text, context) in utterances)
        {
            recognizer.RecognizeFuzzy(text, context); // warm up
        }

        var samples = new double[runs];
        var templateSamples = new double[runs];
        var answered = 0;
        for (var i = 0; i < runs; i++)
        {
            var (text, context) = utterances[i % utterances.Count];
            var start = Stopwatch.GetTimestamp();
            var result = recognizer.RecognizeWithTemplates(text, context);
            templateSamples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            result ??= recognizer.RecognizeFuzzy(text, context);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            answered += result is null ? 0 : 1;
        }

        var percentile = Percentiles(samples);
        var templatesP95 = Percentiles(templateSamples)(0.95);
        Console.WriteLine($"fuzzy: built from the templates in {buildMs:0} ms ({fuzzy.ExpansionCount} expansions); {runs} recognitions of {utterances.Count} utterances no template matches, {(double)answered / runs:P0} answered");
        Console.WriteLine($"  latency templates + fuzzy p50 {percentile(0.50):0.000} ms, p95 {percentile(0.95):0.000} ms (target <= 10), p99 {percentile(0.99):0.000} ms, max {samples[^1]:0.000} ms; the templates' share: p95 {templatesP95:0.000} ms");
        return new { build_ms = buildMs, templates_p95_ms = templatesP95, expansions = fuzzy.ExpansionCount, runs, p50_ms = percentile(0.5), p95_ms = percentile(0.95), p99_ms = percentile(0.99), max_ms = samples[^1], answered_fraction = (double)answered / runs };
    }

    /// <summary>Sorts the samples and reads percentiles from them (nearest rank).</summary>
    private static Func<double, double> Percentiles(double[] samples)
    {
        Array.Sort(samples);
        return p => samples[(int)Math.Min(samples.Length - 1, Math.Ceiling(p * samples.Length) - 1)];
    }

    private static object Templates(IntentRecognizer recognizer, List<(string Text, Dictionary<string, string> Context)> utterances, int runs)
    {
        foreach (var (text, context) in utterances)
        {
            recognizer.RecognizeWithTemplates(text, context); // warm up: JIT and caches
        }

        var samples = new double[runs];
        var matched = 0;
        for (var i = 0; i < runs; i++)
        {
            var (text, context) = utterances[i % utterances.Count];
            var start = Stopwatch.GetTimestamp();
            var result = recognizer.RecognizeWithTemplates(text, context);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            matched += result is null ? 0 : 1;
        }

        var percentile = Percentiles(samples);
        var worst = utterances.Select(u =>
        {
            var clock = Stopwatch.StartNew();
            recognizer.RecognizeWithTemplates(u.Text, u.Context);
            return (u.Text, clock.Elapsed.TotalMilliseconds);
        }).OrderByDescending(x => x.TotalMilliseconds).First();
        Console.WriteLine($"templates: {recognizer.Matcher.SentenceCount} sentence templates, {recognizer.Matcher.Registry.Entities.Count} entities, {runs} recognitions of {utterances.Count} utterances");
        Console.WriteLine($"  latency p50 {percentile(0.50):0.000} ms, p95 {percentile(0.95):0.000} ms (target <= 2), p99 {percentile(0.99):0.000} ms, max {samples[^1]:0.000} ms; slowest utterance \"{worst.Text}\" {worst.TotalMilliseconds:0.000} ms");
        return new { sentences = recognizer.Matcher.SentenceCount, entities = recognizer.Matcher.Registry.Entities.Count, runs, p50_ms = percentile(0.5), p95_ms = percentile(0.95), p99_ms = percentile(0.99), max_ms = samples[^1], matched_fraction = (double)matched / runs };
    }

    private static async Task<object> TimeToFirstTokenAsync(string modelPath, IntentSet intents, DeviceRegistry registry)
    {
        using var model = LanguageModel.Load(modelPath);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = 2048, BatchTokens = 512, Threads = Environment.ProcessorCount });
        using var fallback = new SlmIntentFallback(model, registry, intents, new SlmOptions());
        // The fixed part of the real prompt, padded with more area and intent text to at least 500 tokens.
        var prefixText = fallback.SystemPart;
        while (model.Tokenize(prefixText, addSpecial: true).Length < 500)
        {
            prefixText += "\n" + string.Join(", ", registry.Areas.Select(a => a.Name));
        }

        var prefix = model.Tokenize(prefixText, addSpecial: true);
        var grammar = new CommandSchema(registry, Shortlist.Select(registry, "turn on the kitchen lamp", 8), []).Grammar;
        async Task<double> FirstTokenAsync(int variant, bool clear)
        {
            if (clear)
            {
                await context.ClearCacheAsync().ConfigureAwait(false);
            }

            var suffix = model.Tokenize($"\nDevices: Kitchen lamp (light, Kitchen)\nCommand: please brighten lamp number {variant}\n", addSpecial: false);
            using var sampler = new LanguageSampler(model, new LanguageSamplerOptions { Grammar = grammar });
            var clock = Stopwatch.StartNew();
            await foreach (var piece in context.GenerateAsync([.. prefix, .. suffix], sampler, maxTokens: 1).ConfigureAwait(false))
            {
                break;
            }

            return clock.Elapsed.TotalMilliseconds;
        }

        await FirstTokenAsync(0, clear: true).ConfigureAwait(false);
        var cold = new List<double>();
        var warm = new List<double>();
        for (var i = 1; i <= 10; i++)
        {
            cold.Add(await FirstTokenAsync(i, clear: true).ConfigureAwait(false));
            await FirstTokenAsync(1000 + i, clear: false).ConfigureAwait(false); // the prefix is cached again
            warm.Add(await FirstTokenAsync(2000 + i, clear: false).ConfigureAwait(false));
        }

        var coldMedian = new Samples("cold", cold).Median;
        var warmMedian = new Samples("warm", warm).Median;
        Console.WriteLine($"slm: {Path.GetFileName(modelPath)}, {prefix.Length}-token fixed prefix: time to first token {coldMedian:0.0} ms uncached, {warmMedian:0.0} ms cached: {coldMedian / warmMedian:0.0}x faster (target >= 5x)");
        return new { model = Path.GetFileName(modelPath), prefix_tokens = prefix.Length, uncached_ms = coldMedian, cached_ms = warmMedian, speedup = coldMedian / warmMedian };
    }
}

/// <summary>BenchmarkDotNet view of one template recognition per kind of utterance.</summary>
[MemoryDiagnoser]
public class TemplateRecognition
{
    private IntentRecognizer _recognizer = null!;
    private Dictionary<string, string> _context = [];

    [Params("turn on the Kitchen lamp", "set the Office ceiling light to 40 percent", "turn off the lights in the Garage", "what is the meaning of life")]
    public string Utterance { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        (_, _, _recognizer) = IntentsBench.Build(SideBySide.RepositoryRoot(), 500);
        _context = new Dictionary<string, string> { ["area"] = "Kitchen" };
    }

    [Benchmark]
    public IntentResult? Recognize() => _recognizer.RecognizeWithTemplates(Utterance, _context);
}
