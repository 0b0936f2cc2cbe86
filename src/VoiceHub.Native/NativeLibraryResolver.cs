using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace VoiceHub.Native;

/// <summary>
/// Finds every native library VoiceHub binds to, and fails with a message that says what to run.
/// The engines VoiceHub builds (whisper, llama) live under a native directory as
/// <c>&lt;engine&gt;/lib/&lt;cpu-variant&gt;/lib&lt;engine&gt;.so</c>, one build per instruction set; the
/// best variant this CPU runs is chosen at load time. System libraries come from Debian packages.
/// </summary>
public sealed class NativeLibraryResolver
{
    /// <summary>Overrides the native directory (the layout build-engine.sh produces under artifacts/native).</summary>
    public const string DirectoryVariable = "VOICEHUB_NATIVE_DIR";

    /// <summary>Forces one CPU variant, e.g. to test the portable baseline on a newer CPU.</summary>
    public const string VariantVariable = "VOICEHUB_CPU_VARIANT";

    private const string SetupRemedy = "run ./voicehub setup in the source tree (or reinstall the voicehub package)";

    private static readonly Dictionary<string, SystemLibrary> s_systemLibraries = new(StringComparer.Ordinal)
    {
        ["pocketsphinx"] = new(["libpocketsphinx.so.3"], "libpocketsphinx3 pocketsphinx-en-us"),
        ["sphinxbase"] = new(["libsphinxbase.so.3"], "libsphinxbase3"),
        ["mosquitto"] = new(["libmosquitto.so.1"], "libmosquitto1"),
        ["asound"] = new(["libasound.so.2"], "libasound2"),
        ["soxr"] = new(["libsoxr.so.0"], "libsoxr0"),
        ["gpiod"] = new(["libgpiod.so.2"], "libgpiod2"),
        ["gpiod3"] = new(["libgpiod.so.3"], "libgpiod3"),
        ["libc"] = new(["libc.so.6"], "libc6"),
    };

    private static readonly Lazy<NativeLibraryResolver> s_process = new(() => new NativeLibraryResolver(
        DefaultDirectories(), CpuFeatures.ReadCurrent(), Environment.GetEnvironmentVariable(VariantVariable)));

    private readonly IReadOnlyList<string> _directories;
    private readonly CpuFeatures _cpu;
    private readonly string? _forcedVariant;

    public NativeLibraryResolver(IReadOnlyList<string> directories, CpuFeatures cpu, string? forcedVariant = null)
    {
        _directories = directories;
        _cpu = cpu;
        _forcedVariant = string.IsNullOrWhiteSpace(forcedVariant) ? null : forcedVariant;
    }

    /// <summary>The resolver this process uses for every [LibraryImport] in this assembly.</summary>
    public static NativeLibraryResolver Process => s_process.Value;

    public IReadOnlyList<string> Directories => _directories;

    public static IReadOnlyList<string> DefaultDirectories()
    {
        var list = new List<string>();
        var fromEnvironment = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            list.Add(fromEnvironment);
        }

        list.Add(Path.Combine(AppContext.BaseDirectory, "native"));
        list.Add("/usr/lib/voicehub/native");
        return list;
    }

    /// <summary>Where a library VoiceHub builds itself is, and which CPU variant was chosen.</summary>
    public EngineLibrary LocateEngine(string engine)
    {
        var searched = new List<string>();
        foreach (var directory in _directories)
        {
            var libDirectory = Path.Combine(directory, engine, "lib");
            var manifest = Path.Combine(libDirectory, "variants.json");
            searched.Add(libDirectory);
            if (!File.Exists(manifest))
            {
                continue;
            }

            var variants = ReadVariants(manifest);
            var chosen = _forcedVariant is not null
                ? variants.FirstOrDefault(v => v.Name == _forcedVariant)
                    ?? throw new NativeLibraryNotFoundException(engine, $"CPU variant '{_forcedVariant}' (from {VariantVariable}) is not among {string.Join(", ", variants.Select(v => v.Name))}", $"unset {VariantVariable}")
                : variants.FirstOrDefault(v => _cpu.HasAll(v.Requires))
                    ?? throw new NativeLibraryNotFoundException(engine, $"this CPU supports none of the built variants ({string.Join(", ", variants.Select(v => v.Name))})", "rebuild with a baseline variant in src/native/cpu-variants.tsv");
            var file = Path.Combine(libDirectory, chosen.Name, $"lib{engine}.so");
            if (File.Exists(file))
            {
                return new EngineLibrary(engine, file, chosen.Name, Path.Combine(directory, engine));
            }

            searched.Add(file);
        }

        throw new NativeLibraryNotFoundException($"lib{engine}.so", $"not found in {string.Join(", ", searched)}", SetupRemedy);
    }

    /// <summary>Loads a library by the name used in [LibraryImport]; throws with a remedy when it is missing.</summary>
    public nint Load(string libraryName)
    {
        if (libraryName is "whisper" or "llama")
        {
            var located = LocateEngine(libraryName);
            try
            {
                return NativeLibrary.Load(located.Path);
            }
            catch (DllNotFoundException e)
            {
                throw new NativeLibraryNotFoundException(located.Path, $"cannot be loaded ({e.Message})", SetupRemedy);
            }
        }

        if (s_systemLibraries.TryGetValue(libraryName, out var system))
        {
            foreach (var soname in system.Sonames)
            {
                if (NativeLibrary.TryLoad(soname, out var loaded))
                {
                    return loaded;
                }
            }

            throw new NativeLibraryNotFoundException(system.Sonames[0], "not installed", $"run: sudo apt-get install -y {system.Packages}");
        }

        return 0;
    }

    /// <summary>Whether a system library can be loaded, for diagnostics; never throws.</summary>
    public static string? FindSystemLibrary(string libraryName, out string packages)
    {
        var system = s_systemLibraries[libraryName];
        packages = system.Packages;
        foreach (var soname in system.Sonames)
        {
            if (NativeLibrary.TryLoad(soname, out var loaded))
            {
                NativeLibrary.Free(loaded);
                return soname;
            }
        }

        return null;
    }

    private static List<CpuVariant> ReadVariants(string manifest)
    {
        using var stream = File.OpenRead(manifest);
        return JsonSerializer.Deserialize<List<CpuVariant>>(stream, JsonOptions.Native)
            ?? throw new NativeLibraryNotFoundException(manifest, "is empty", SetupRemedy);
    }

#pragma warning disable CA2255 // A module initializer is the one place that runs before the first P/Invoke of this assembly.
    [ModuleInitializer]
    internal static void InstallForThisAssembly() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, ResolveForRuntime);
#pragma warning restore CA2255

    private static nint ResolveForRuntime(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        Process.Load(libraryName);

    private sealed record SystemLibrary(string[] Sonames, string Packages);
}

/// <summary>An engine library as found on disk.</summary>
public sealed record EngineLibrary(string Engine, string Path, string Variant, string EngineDirectory);

/// <summary>One entry of <c>lib/variants.json</c>: a CPU variant and the cpuinfo flags it needs.</summary>
public sealed record CpuVariant(string Name, IReadOnlyList<string> Requires);
