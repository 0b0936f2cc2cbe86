using System.Runtime.InteropServices;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Language;
using VoiceHub.Core.Speech;
using VoiceHub.Native;
using VoiceHub.Native.Grammar;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>
/// whisper.cpp (from Whisper.net's runtime, its ggml renamed <c>*-whisper</c>) and llama.cpp (from
/// LLamaSharp.Backend.Cpu, its own ggml) load into one process without clashing.
/// </summary>
[Trait("needs", "native")]
public sealed class BothEnginesTests
{
    [Fact]
    public async Task Whisper_and_llama_run_in_the_same_process()
    {
        using var whisper = new WhisperEngine(TestPaths.WhisperTestModel, new WhisperEngineOptions { Threads = 2, PromptWithNames = false, MinimumAverageLogProbability = float.NegativeInfinity }, null, DeviceRegistry.Empty);
        using var llama = LanguageModel.Load(TestPaths.LlamaTestModel);
        using var context = llama.CreateContext(new LanguageContextOptions { ContextTokens = 128, Threads = 2 });
        using var sampler = new LanguageSampler(llama, new LanguageSamplerOptions { Grammar = GbnfGrammar.Parse("root ::= \"on\" | \"off\"") });
        var audio = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav"));

        var transcript = await whisper.TranscribeAsync(audio);
        var text = await context.GenerateTextAsync(llama.Tokenize("Switch", addSpecial: true), sampler, maxTokens: 8);
        var transcriptAfterLlama = await whisper.TranscribeAsync(audio);

        Assert.Contains(text, new[] { "on", "off" });
        Assert.Equal(transcript.Text, transcriptAfterLlama.Text);
        var loaded = LoadedLibraries();
        Assert.Contains(loaded, p => Path.GetFileName(p) == "libwhisper.so");
        Assert.Contains(loaded, p => Path.GetFileName(p) == "libllama.so");
        // Whisper.net renames its ggml (*-whisper.so), so each engine has its own and no file name is loaded twice.
        var ggml = loaded.Where(p => Path.GetFileName(p).StartsWith("libggml", StringComparison.Ordinal)).ToList();
        Assert.Contains(ggml, p => p.EndsWith("-whisper.so", StringComparison.Ordinal));
        Assert.Contains(ggml, p => Path.GetFileName(p) == "libggml-base.so");
        Assert.Equal(ggml.Count, ggml.Select(Path.GetFileName).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void LLamaSharp_loads_the_best_cpu_variant_this_machine_runs()
    {
        var flags = File.ReadAllLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? [];
        var expected = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? null
            : flags.Contains("avx512f") ? "avx512" : flags.Contains("avx2") ? "avx2" : flags.Contains("avx") ? "avx" : "noavx";
        using var llama = LanguageModel.Load(TestPaths.LlamaTestModel, new LanguageModelOptions { VocabularyOnly = true });

        var library = LoadedLibraries().Single(p => Path.GetFileName(p) == "libllama.so");

        Assert.Contains($"runtimes/linux-{(RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "arm64" : "x64")}/native/", library, StringComparison.Ordinal);
        if (expected is not null)
        {
            Assert.Equal(expected, Path.GetFileName(Path.GetDirectoryName(library)));
        }

        Assert.Contains("CPU", LanguageModel.SystemInfo, StringComparison.Ordinal);
    }

    private static List<string> LoadedLibraries() =>
        File.ReadAllLines("/proc/self/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1])
            .Where(p => p.EndsWith(".so", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
}
