using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Language;
using VoiceHub.Native;
using VoiceHub.Tests.Support;

namespace VoiceHub.Bench;

/// <summary>
/// <c>bench native</c>: our bindings against the engines' own tools on the same model, threads and
/// input, run alternately. whisper: load + transcribe, ours in process against whisper-cli's own
/// "total time" (also from load to the end), and process wall times for reference. llama: prompt
/// processing (512 tokens) and generation (128 tokens, one per decode) against llama-bench.
/// Target: ratio at most 1.05, i.e. the binding adds nothing.
/// </summary>
public static partial class NativeBench
{
    public static Command Command()
    {
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds per comparison", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "Threads for both sides", DefaultValueFactory = _ => Environment.ProcessorCount };
        var whisperModel = new Option<string?>("--whisper-model") { Description = "whisper model (default: the weightless tiny.en test model, which runs the full tiny.en encoder)" };
        var audio = new Option<string?>("--audio") { Description = "16 kHz WAV to transcribe (default: audio-fixtures/coffee-iced-mocha.wav)" };
        var llamaModel = new Option<string?>("--llama-model") { Description = "GGUF model (default: a generated 220M-parameter llama, random weights quantized to Q4_0)" };
        var command = new Command("native", "Whisper.net vs whisper-cli, LLamaSharp vs llama-bench") { rounds, threads, whisperModel, audio, llamaModel };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = SideBySide.RepositoryRoot();
            var n = parse.GetValue(rounds);
            var t = parse.GetValue(threads);
            var whisper = await WhisperAsync(
                parse.GetValue(whisperModel) ?? Path.Combine(root, "tests", "models", "for-tests-ggml-tiny.en.bin"),
                parse.GetValue(audio) ?? Path.Combine(root, "audio-fixtures", "coffee-iced-mocha.wav"),
                t,
                n).ConfigureAwait(false);
            var llama = await LlamaAsync(parse.GetValue(llamaModel) ?? GeneratedLlama(root), t, n).ConfigureAwait(false);
            var all = whisper.Concat(llama).ToList();
            SideBySide.Print(Console.Out, $"bench native: {n} alternating rounds, {t} threads, medians ({Environment.MachineName}, {Environment.ProcessorCount} cores)", all);
            var path = SideBySide.Save("native", new { rounds = n, threads = t, comparisons = all.Select(c => new { c.Work, ours_ms = c.Ours.Median, peer_ms = c.Peer.Median, ratio = c.Ratio, ratio_of_minimums = c.RatioOfMinimums, ours = c.Ours.Milliseconds, peer = c.Peer.Milliseconds }) });
            Console.WriteLine($"saved {path}");
            return 0;
        });
        return command;
    }

    private static async Task<IReadOnlyList<Comparison>> WhisperAsync(string model, string audio, int threads, int rounds)
    {
        // whisper-cli of the same whisper.cpp release Whisper.net packages (1.9.1), built once for the bench.
        var cli = PeerTool("whisper", "whisper-cli");
        string[] arguments = ["-m", model, "-f", audio, "-t", threads.ToString(CultureInfo.InvariantCulture), "-l", "en", "-bs", "1", "-fa"];
        var options = new Core.Speech.WhisperEngineOptions { Threads = threads, Language = "en", BeamSize = 1, PromptWithNames = false, FlashAttention = true, MinimumAverageLogProbability = float.NegativeInfinity };
        double cliInternal = 0;
        double ourInProcess = 0;

        async Task<double> Ours()
        {
            var clock = Stopwatch.StartNew();
            using var engine = new Core.Speech.WhisperEngine(model, options, null, Core.Devices.DeviceRegistry.Empty);
            await engine.TranscribeAsync(AudioFile.ReadMono16k(audio)).ConfigureAwait(false);
            return ourInProcess = clock.Elapsed.TotalMilliseconds;
        }

        async Task<double> Peer()
        {
            var (wall, stderr) = await RunProcessAsync(cli, arguments).ConfigureAwait(false);
            var match = TotalTime().Match(stderr);
            if (!match.Success)
            {
                throw new InvalidOperationException($"whisper-cli printed no total time: {stderr[^Math.Min(stderr.Length, 400)..]}");
            }

            cliInternal = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return wall;
        }

        // In-process comparison: our load + transcribe against whisper-cli's own measurement of the same span.
        var inProcess = await SideBySide.RunAsync(
            $"whisper load+transcribe {Path.GetFileName(model)}",
            rounds,
            Ours,
            async () =>
            {
                await Peer().ConfigureAwait(false);
                return cliInternal;
            }).ConfigureAwait(false);
        return [inProcess];
    }

    private static async Task<IReadOnlyList<Comparison>> LlamaAsync(string modelPath, int threads, int rounds)
    {
        const int PromptTokens = 512;
        const int GeneratedTokens = 128;
        var tool = PeerTool("llama", "llama-bench");
        using var model = LanguageModel.Load(modelPath);
        using var context = model.CreateContext(new LanguageContextOptions { ContextTokens = PromptTokens + GeneratedTokens, BatchTokens = PromptTokens, Threads = threads, FlashAttention = false });
        var random = new Random(5);
        var prompt = Enumerable.Range(0, PromptTokens).Select(_ => random.Next(3, model.VocabularySize)).ToArray();
        double peerPrompt = 0;
        double peerGeneration = 0;

        async Task RunPeer()
        {
            var (_, output) = await RunProcessAsync(tool, ["-m", modelPath, "-t", threads.ToString(CultureInfo.InvariantCulture), "-p", PromptTokens.ToString(CultureInfo.InvariantCulture), "-n", GeneratedTokens.ToString(CultureInfo.InvariantCulture), "-r", "1", "-b", "512", "-ub", "512", "-fa", "0", "-o", "json"], stdout: true).ConfigureAwait(false);
            using var json = JsonDocument.Parse(output);
            foreach (var test in json.RootElement.EnumerateArray())
            {
                var ms = test.GetProperty("avg_ns").GetDouble() / 1e6;
                if (test.GetProperty("n_prompt").GetInt32() > 0)
                {
                    peerPrompt = ms;
                }
                else
                {
                    peerGeneration = ms;
                }
            }
        }

        async Task<double> OurPrompt()
        {
            await context.ClearCacheAsync().ConfigureAwait(false);
            return await SideBySide.TimeAsync(() => context.EvaluateAsync(prompt)).ConfigureAwait(false);
        }

        async Task<double> OurGeneration()
        {
            await context.ClearCacheAsync().ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            for (var i = 1; i <= GeneratedTokens; i++)
            {
                await context.EvaluateAsync(new ArraySegment<int>(prompt, 0, i)).ConfigureAwait(false); // one new token each time
            }

            return clock.Elapsed.TotalMilliseconds;
        }

        var promptComparison = await SideBySide.RunAsync($"llama prompt {PromptTokens} tokens ({Path.GetFileName(modelPath)})", rounds, OurPrompt, async () =>
        {
            await RunPeer().ConfigureAwait(false);
            return peerPrompt;
        }).ConfigureAwait(false);
        var generationComparison = await SideBySide.RunAsync($"llama generate {GeneratedTokens} tokens", rounds, OurGeneration, async () =>
        {
            await RunPeer().ConfigureAwait(false);
            return peerGeneration;
        }).ConfigureAwait(false);
        return [promptComparison, generationComparison];
    }

    /// <summary>
    /// A 220M-parameter llama (1024 wide, 12 layers, real Llama-2 vocabulary; big enough that compute,
    /// not per-call overhead, sets the pace) with random F16 weights, quantized to Q4_0 by
    /// <see cref="LanguageModelQuantizer"/> (as the thermal ladder's lightest rung is), both written
    /// once into artifacts/bench.
    /// </summary>
    internal static string GeneratedLlama(string root)
    {
        var f16 = Path.Combine(root, "artifacts", "bench", "models", "random-llama-220m-f16.gguf");
        if (!File.Exists(f16))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(f16)!);
            GgufWriter.WriteLlama(f16 + ".part", new LlamaShape(Embedding: 1024, Layers: 12, Heads: 16, KvHeads: 16, FeedForward: 2816, Context: 2048));
            File.Move(f16 + ".part", f16);
        }

        var q4 = Path.Combine(Path.GetDirectoryName(f16)!, "random-llama-220m-q4_0.gguf");
        if (!File.Exists(q4))
        {
            LanguageModelQuantizer.Quantize(f16, q4, QuantizationType.Q4_0);
        }

        return q4;
    }

    /// <summary>
    /// A peer tool built from the pinned engine source (src/native/build-engine.sh; cached after the
    /// first build): whisper-cli of the whisper.cpp release Whisper.net packages, llama-bench of the
    /// llama.cpp the project's own binding ran before LLamaSharp.
    /// </summary>
    private static string PeerTool(string engine, string name)
    {
        var script = Path.Combine(SideBySide.RepositoryRoot(), "src", "native", "build-engine.sh");
        var start = new ProcessStartInfo(script, [engine]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var directory = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        var tool = Path.Combine(directory, "bin", name);
        return process.ExitCode == 0 && File.Exists(tool) ? tool : throw new FileNotFoundException($"building {name} with {script} {engine} failed", tool);
    }

    private static async Task<(double WallMilliseconds, string Output)> RunProcessAsync(string file, string[] arguments, bool stdout = false)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var outTask = process.StandardOutput.ReadToEndAsync();
        var errTask = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        var wall = clock.Elapsed.TotalMilliseconds;
        var output = stdout ? await outTask.ConfigureAwait(false) : await errTask.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited {process.ExitCode}: {await errTask.ConfigureAwait(false)}");
        }

        return (wall, output);
    }

    [GeneratedRegex(@"total time\s*=\s*([0-9.]+) ms")]
    private static partial Regex TotalTime();
}
