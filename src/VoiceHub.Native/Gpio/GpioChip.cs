using System.Runtime.InteropServices;

namespace VoiceHub.Native.Gpio;

/// <summary>What a GPIO chip could not do, in words an installer can act on.</summary>
public sealed class GpioException(string message) : Exception(message);

/// <summary>Internal pull resistor of an input line.</summary>
public enum GpioBias
{
    AsIs,
    Disabled,
    PullUp,
    PullDown,
}

/// <summary>An edge on an input line, as its logical (active-low aware) level after the edge.</summary>
public readonly record struct GpioEdge(bool Active);

/// <summary>
/// A GPIO chip (a /dev/gpiochipN, or a simulated one): lines are claimed under a consumer name
/// (what <c>gpioinfo</c> shows) and given back when their object is disposed.
/// </summary>
public interface IGpioChip : IDisposable
{
    string Name { get; }

    string Label { get; }

    int LineCount { get; }

    /// <summary>Claims a line as an output; "active" is the logical level (high, or low for active-low wiring).</summary>
    IGpioOutput RequestOutput(int line, string consumer, bool activeLow, bool initiallyActive);

    /// <summary>Claims a line as an input with edge events on both edges.</summary>
    IGpioInput RequestInput(int line, string consumer, bool activeLow, GpioBias bias);
}

public interface IGpioOutput : IDisposable
{
    int Line { get; }

    bool IsActive { get; }

    void Drive(bool active);
}

public interface IGpioInput : IDisposable
{
    int Line { get; }

    bool IsActive { get; }

    /// <summary>Waits up to <paramref name="timeout"/> for an edge; null when none came.</summary>
    GpioEdge? WaitForEdge(TimeSpan timeout);
}

/// <summary>Opens GPIO chips through libgpiod: the 2.x API when libgpiod.so.3 is installed, else 1.x (libgpiod.so.2).</summary>
public static class GpioChips
{
    /// <summary>"2.1" or "1.6.3"; throws <see cref="NativeLibraryNotFoundException"/> when neither libgpiod is installed.</summary>
    public static unsafe string LibraryVersion =>
        UseV2 ? "libgpiod " + Marshal.PtrToStringUTF8((nint)Interop.Gpiod3.gpiod_api_version())
              : "libgpiod " + Marshal.PtrToStringUTF8((nint)Interop.Gpiod.gpiod_version_string());

    /// <summary>The chips this machine has (/dev/gpiochipN).</summary>
    public static IReadOnlyList<string> Available(string deviceDirectory = "/dev") =>
        Directory.Exists(deviceDirectory) ? [.. Directory.GetFiles(deviceDirectory, "gpiochip*").Order(StringComparer.Ordinal)] : [];

    private static bool UseV2 => NativeLibraryResolver.FindSystemLibrary("gpiod3", out _) is not null;

    /// <summary>Opens a chip by name (gpiochip0) or path (/dev/gpiochip0).</summary>
    public static IGpioChip Open(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        var path = nameOrPath.Contains('/', StringComparison.Ordinal) ? nameOrPath : Path.Combine("/dev", nameOrPath);
        return UseV2 ? new LibgpiodV2Chip(path) : new LibgpiodV1Chip(path);
    }

    public static GpioException OpenError(string path, int errno) => new(errno switch
    {
        2 => $"{path}: no such GPIO chip (this machine has {(Available().Count == 0 ? "none" : string.Join(", ", Available()))}; check the chip name, or that the GPIO driver is loaded)",
        13 => $"{path}: permission denied (add the service user to the 'gpio' group)",
        _ => $"{path}: not a usable GPIO chip ({Marshal.GetPInvokeErrorMessage(errno)})",
    });

    public static GpioException LineError(string chip, int line, string? consumer, int errno) => new(errno switch
    {
        16 => $"{chip} line {line}: already in use{(string.IsNullOrEmpty(consumer) ? string.Empty : $" by '{consumer}'")}",
        22 => $"{chip} line {line}: the chip refused the settings (line not usable as requested)",
        _ => $"{chip} line {line}: {Marshal.GetPInvokeErrorMessage(errno)}",
    });
}
