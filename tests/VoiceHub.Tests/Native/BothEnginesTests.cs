using System.Diagnostics;
using System.Runtime.InteropServices;
using VoiceHub.Native;
using VoiceHub.Native.Grammar;
using VoiceHub.Native.Llama;
using VoiceHub.Core.Intents.Registry;
using VoiceHub.Core.Speech;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>
/// whisper.cpp (from Whisper.net's runtime, its ggml renamed <c>*-whisper</c>) and llama.cpp (built
/// here with its ggml linked in statically and hidden) load into one process without symbol clashes.
/// </summary>
public sealed class BothEnginesTests
{
    [Fact]
    public async Task Whisper_and_llama_run_in_the_same_process()
    {
        using var whisper = new WhisperEngine(TestPaths.WhisperTestModel, new WhisperEngineOptions { Threads = 2, PromptWithNames = false, MinimumAverageLogProbability = float.NegativeInfinity }, null, DeviceRegistry.Empty);
        using var llama = LlamaModel.Load(TestPaths.LlamaTestModel);
        using var context = llama.CreateContext(new LlamaContextOptions { ContextTokens = 128, Threads = 2 });
        using var sampler = new LlamaSampler(llama, new LlamaSamplerOptions { Grammar = GbnfGrammar.Parse("root ::= \"on\" | \"off\"") });
        var audio = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav"));

        var transcript = await whisper.TranscribeAsync(audio);
        var text = await context.GenerateTextAsync(llama.Tokenize("Switch", addSpecial: true), sampler, maxTokens: 8);
        var transcriptAfterLlama = await whisper.TranscribeAsync(audio);

        Assert.Contains(text, new[] { "on", "off" });
        Assert.Equal(transcript.Text, transcriptAfterLlama.Text);
        var loaded = File.ReadAllLines("/proc/self/maps").Where(l => l.EndsWith(".so", StringComparison.Ordinal)).Select(l => Path.GetFileName(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1])).ToHashSet();
        Assert.Contains("libwhisper.so", loaded);
        Assert.Contains("libllama.so", loaded);
        // Whisper.net's ggml carries its own names; llama's is inside libllama.so, so no plain libggml is shared.
        Assert.All(loaded.Where(l => l.StartsWith("libggml", StringComparison.Ordinal)), l => Assert.EndsWith("-whisper.so", l, StringComparison.Ordinal));
    }

    [Fact]
    public void The_llama_engine_exports_only_its_own_api()
    {
        var libraries = Directory.GetFiles(Path.Combine(TestPaths.NativeEngine("llama"), "lib"), "libllama.so", SearchOption.AllDirectories);
        Assert.True(libraries.Length >= 2, "one library per CPU variant");
        foreach (var library in libraries)
        {
            var exported = DynamicSymbols(library);
            Assert.Contains(exported, s => s.StartsWith("llama_", StringComparison.Ordinal));
            Assert.All(exported, s => Assert.StartsWith("llama_", s, StringComparison.Ordinal));
        }
    }

    [Fact]
    public unsafe void The_portable_baseline_variant_loads_and_runs_on_this_machine()
    {
        var baselineVariant = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "armv8-a" : "x86-64-v2";
        var resolver = new NativeLibraryResolver([Path.Combine(AppContext.BaseDirectory, "native")], CpuFeatures.ReadCurrent(), forcedVariant: baselineVariant);

        var baseline = resolver.LocateEngine("llama");
        var handle = NativeLibrary.Load(baseline.Path);
        try
        {
            var systemInfo = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(handle, "llama_print_system_info");
            Assert.Contains("CPU", Marshal.PtrToStringUTF8((nint)systemInfo()), StringComparison.Ordinal);
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }

    private static List<string> DynamicSymbols(string library)
    {
        using var nm = Process.Start(new ProcessStartInfo("nm", ["-D", "--defined-only", library]) { RedirectStandardOutput = true })!;
        var output = nm.StandardOutput.ReadToEnd();
        nm.WaitForExit();
        Assert.Equal(0, nm.ExitCode);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1]).ToList();
    }
}
