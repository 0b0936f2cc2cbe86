using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>
/// Finds the system libraries VoiceHub binds to itself (pocketsphinx, ALSA, libmosquitto, libsoxr, libspeexdsp,
/// libgpiod, libc: Debian packages), and fails with a message naming the package to install. The
/// speech and language engines come with their NuGet packages (Whisper.net.Runtime,
/// LLamaSharp.Backend.Cpu), which load their own libraries.
/// </summary>
public static class NativeLibraryResolver
{
    private static readonly Dictionary<string, SystemLibrary> s_systemLibraries = new(StringComparer.Ordinal)
    {
        ["pocketsphinx"] = new(["libpocketsphinx.so.3"], "libpocketsphinx3 pocketsphinx-en-us"),
        ["sphinxbase"] = new(["libsphinxbase.so.3"], "libsphinxbase3"),
        ["mosquitto"] = new(["libmosquitto.so.1"], "libmosquitto1"),
        ["asound"] = new(["libasound.so.2"], "libasound2"),
        ["soxr"] = new(["libsoxr.so.0"], "libsoxr0"),
        ["speexdsp"] = new(["libspeexdsp.so.1"], "libspeexdsp1"),
        ["gpiod"] = new(["libgpiod.so.2"], "libgpiod2"),
        ["gpiod3"] = new(["libgpiod.so.3"], "libgpiod3"),
        ["libc"] = new(["libc.so.6"], "libc6"),
    };

    /// <summary>Loads a library by the name used in [LibraryImport]; throws with a remedy when it is missing.</summary>
    public static nint Load(string libraryName)
    {
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

#pragma warning disable CA2255 // A module initializer is the one place that runs before the first P/Invoke of this assembly.
    [ModuleInitializer]
    internal static void InstallForThisAssembly() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, ResolveForRuntime);
#pragma warning restore CA2255

    private static nint ResolveForRuntime(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        Load(libraryName);

    private sealed record SystemLibrary(string[] Sonames, string Packages);
}
