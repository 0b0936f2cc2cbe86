using System.Diagnostics;
using System.Runtime.InteropServices;
using VoiceHub.Native;
using VoiceHub.Native.Grammar;
using VoiceHub.Native.Llama;
using VoiceHub.Native.Whisper;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>
/// whisper.cpp and llama.cpp each carry their own (different) ggml; both are built with ggml
/// linked in statically and hidden, so the two load into one process without symbol clashes.
/// </summary>
public sealed class BothEnginesTests
{
    [Fact]
    public async Task Whisper_and_llama_run_in_the_same_process()
    {
        using var whisper = WhisperModel.Load(TestPaths.WhisperTestModel);
        using var session = whisper.CreateSession();
        using var llama = LlamaModel.Load(TestPaths.LlamaTestModel);
        using var context = llama.CreateContext(new LlamaContextOptions { ContextTokens = 128, Threads = 2 });
        using var sampler = new LlamaSampler(llama, new LlamaSamplerOptions { Grammar = GbnfGrammar.Parse("root ::= \"on\" | \"off\"") });

        var transcript = await session.TranscribeToEndAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav")), new WhisperRunOptions { Threads = 2, TemperatureIncrement = 0 });
        var text = await context.GenerateTextAsync(llama.Tokenize("Switch", addSpecial: true), sampler, maxTokens: 8);
        var transcriptAfterLlama = await session.TranscribeToEndAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav")), new WhisperRunOptions { Threads = 2, TemperatureIncrement = 0 });

        Assert.Contains(text, new[] { "on", "off" });
        Assert.Equal(transcript.Text, transcriptAfterLlama.Text);
        var loaded = File.ReadAllLines("/proc/self/maps").Where(l => l.EndsWith(".so", StringComparison.Ordinal)).Select(l => Path.GetFileName(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1])).ToHashSet();
        Assert.Contains("libwhisper.so", loaded);
        Assert.Contains("libllama.so", loaded);
        Assert.DoesNotContain(loaded, l => l.StartsWith("libggml", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("whisper", "whisper_")]
    [InlineData("llama", "llama_")]
    public void Each_engine_exports_only_its_own_api(string engine, string prefix)
    {
        var libraries = Directory.GetFiles(Path.Combine(TestPaths.NativeEngine(engine), "lib"), $"lib{engine}.so", SearchOption.AllDirectories);
        Assert.True(libraries.Length >= 2, "one library per CPU variant");
        foreach (var library in libraries)
        {
            var exported = DynamicSymbols(library);
            Assert.Contains(exported, s => s.StartsWith(prefix, StringComparison.Ordinal));
            Assert.All(exported, s => Assert.StartsWith(prefix, s, StringComparison.Ordinal));
        }
    }

    [Fact]
    public unsafe void The_portable_baseline_variant_loads_and_runs_on_this_machine()
    {
        var resolver = new NativeLibraryResolver([Path.Combine(AppContext.BaseDirectory, "native")], CpuFeatures.ReadCurrent(), forcedVariant: "x86-64-v2");
        if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
        {
            resolver = new NativeLibraryResolver([Path.Combine(AppContext.BaseDirectory, "native")], CpuFeatures.ReadCurrent(), forcedVariant: "armv8-a");
        }

        var baseline = resolver.LocateEngine("whisper");
        var handle = NativeLibrary.Load(baseline.Path);
        try
        {
            var version = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(handle, "whisper_version");
            Assert.Equal("1.9.1", Marshal.PtrToStringUTF8((nint)version()));
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
