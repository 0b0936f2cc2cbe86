using VoiceHub.Native;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

public sealed class NativeLibraryResolverTests
{
    [Fact]
    public void A_missing_engine_library_fails_with_a_message_saying_what_to_run()
    {
        using var temp = new TempDirectory();
        var resolver = new NativeLibraryResolver([temp.Path], new CpuFeatures(["avx2"]));

        var error = Assert.Throws<NativeLibraryNotFoundException>(() => resolver.Load("whisper"));

        Assert.Contains("libwhisper.so: not found in", error.Message, StringComparison.Ordinal);
        Assert.Contains("run ./voicehub setup", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_best_variant_the_cpu_supports_is_chosen()
    {
        using var temp = new TempDirectory();
        var lib = Path.Combine(temp.Path, "whisper", "lib");
        foreach (var variant in new[] { "fast", "baseline" })
        {
            Directory.CreateDirectory(Path.Combine(lib, variant));
            File.WriteAllText(Path.Combine(lib, variant, "libwhisper.so"), string.Empty);
        }

        File.WriteAllText(Path.Combine(lib, "variants.json"), """[{"name":"fast","requires":["avx2","fma"]},{"name":"baseline","requires":["sse4_2"]}]""");

        Assert.Equal("fast", new NativeLibraryResolver([temp.Path], new CpuFeatures(["sse4_2", "avx2", "fma"])).LocateEngine("whisper").Variant);
        Assert.Equal("baseline", new NativeLibraryResolver([temp.Path], new CpuFeatures(["sse4_2", "avx2"])).LocateEngine("whisper").Variant);
        var none = Assert.Throws<NativeLibraryNotFoundException>(() => new NativeLibraryResolver([temp.Path], new CpuFeatures([])).LocateEngine("whisper"));
        Assert.Contains("supports none of the built variants (fast, baseline)", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cpu_flags_are_read_from_cpuinfo_on_x86_and_arm()
    {
        var x86 = CpuFeatures.FromCpuInfo("processor\t: 0\nflags\t\t: fpu sse4_2 avx2 fma\nbugs\t: none\n");
        var arm = CpuFeatures.FromCpuInfo("processor\t: 0\nFeatures\t: fp asimd asimddp fphp asimdhp\n");

        Assert.True(x86.HasAll(["avx2", "fma"]));
        Assert.False(x86.HasAll(["avx512f"]));
        Assert.True(arm.HasAll(["asimddp", "fphp"]));
    }

    [Fact]
    public void A_missing_system_library_names_the_debian_package()
    {
        var resolver = new NativeLibraryResolver([], new CpuFeatures([]));

        // libgpiod.so.3 (the v2 API) is not packaged in bookworm, so it is absent on every test machine.
        var error = Assert.Throws<NativeLibraryNotFoundException>(() => resolver.Load("gpiod3"));

        Assert.Equal("libgpiod.so.3: not installed: run: sudo apt-get install -y libgpiod3", error.Message);
    }
}
