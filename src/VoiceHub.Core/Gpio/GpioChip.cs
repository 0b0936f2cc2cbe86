using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Runtime.InteropServices;
using VoiceHub.Native;

namespace VoiceHub.Core.Gpio;

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
/// A GPIO chip (a /dev/gpiochipN through System.Device.Gpio, or a simulated one): lines are claimed
/// and given back when their object is disposed. Levels here are logical: active-low wiring is
/// handled in this layer, since System.Device.Gpio has no active-low setting.
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

/// <summary>
/// Opens GPIO chips through System.Device.Gpio's libgpiod drivers: <see cref="LibGpiodV2Driver"/>
/// when libgpiod.so.3 (the 2.x API) is installed, else <see cref="LibGpiodDriver"/> (libgpiod.so.2,
/// Debian bookworm's 1.6).
/// </summary>
public static class GpioChips
{
    /// <summary>Which libgpiod the drivers will use; throws <see cref="NativeLibraryNotFoundException"/> when neither is installed.</summary>
    public static string LibraryVersion =>
        NativeLibraryResolver.FindSystemLibrary("gpiod3", out _) is { } v2 ? $"{v2} (libgpiod 2.x)"
        : NativeLibraryResolver.FindSystemLibrary("gpiod", out var packages) is { } v1 ? $"{v1} (libgpiod 1.x)"
        : throw new NativeLibraryNotFoundException("libgpiod.so.2", "not installed", $"run: sudo apt-get install -y {packages}");

    /// <summary>The chips this machine has (/dev/gpiochipN).</summary>
    public static IReadOnlyList<string> Available(string deviceDirectory = "/dev") =>
        Directory.Exists(deviceDirectory) ? [.. Directory.GetFiles(deviceDirectory, "gpiochip*").Order(StringComparer.Ordinal)] : [];

    /// <summary>Opens a chip by name (gpiochip0) or path (/dev/gpiochip0).</summary>
    public static IGpioChip Open(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        var path = nameOrPath.Contains('/', StringComparison.Ordinal) ? nameOrPath : Path.Combine("/dev", nameOrPath);
        // The drivers take a chip number; check the device here so the error names the path.
        var name = Path.GetFileName(path);
        if (Path.GetDirectoryName(path) != "/dev" || !name.StartsWith("gpiochip", StringComparison.Ordinal) || !int.TryParse(name.AsSpan(8), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            throw new GpioException($"{path}: not a usable GPIO chip (expected /dev/gpiochipN)");
        }

        if (!File.Exists(path))
        {
            throw OpenError(path, 2);
        }

        GpioDriver driver;
        try
        {
            driver = NativeLibraryResolver.FindSystemLibrary("gpiod3", out _) is not null ? new LibGpiodV2Driver(number) : new LibGpiodDriver(number);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ExternalException or PlatformNotSupportedException or InvalidOperationException)
        {
            throw new GpioException($"{path}: not a usable GPIO chip ({e.Message})");
        }

        return new ControllerGpioChip(name, driver);
    }

    public static GpioException OpenError(string path, int errno) => new(errno switch
    {
        2 => $"{path}: no such GPIO chip (this machine has {(Available() is { Count: > 0 } chips ? string.Join(", ", chips) : "none")}; check the chip name, or that the GPIO driver is loaded)",
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

/// <summary>
/// A chip behind System.Device.Gpio's <see cref="GpioController"/> (which owns the driver): the
/// libgpiod drivers on a board, a fake <see cref="GpioDriver"/> in tests. Bias is the pin mode
/// (InputPullUp/InputPullDown); the consumer name is not settable through System.Device.Gpio.
/// </summary>
public sealed class ControllerGpioChip : IGpioChip
{
    private readonly GpioController _controller;

    public ControllerGpioChip(string name, GpioDriver driver)
    {
        Name = name;
        _controller = new GpioController(driver);
        LineCount = _controller.PinCount;
    }

    public string Name { get; }

    public string Label => Name;

    public int LineCount { get; }

    public IGpioOutput RequestOutput(int line, string consumer, bool activeLow, bool initiallyActive)
    {
        Open(line, PinMode.Output, initiallyActive != activeLow ? PinValue.High : PinValue.Low);
        return new Output(this, line, activeLow, initiallyActive);
    }

    public IGpioInput RequestInput(int line, string consumer, bool activeLow, GpioBias bias)
    {
        var mode = bias switch
        {
            GpioBias.PullUp => PinMode.InputPullUp,
            GpioBias.PullDown => PinMode.InputPullDown,
            _ => PinMode.Input,
        };
        if (line >= 0 && line < LineCount && !_controller.IsPinModeSupported(line, mode))
        {
            throw new GpioException($"{Name} line {line}: {mode} is not supported by this chip's driver");
        }

        Open(line, mode, null);
        return new Input(this, line, activeLow);
    }

    private void Open(int line, PinMode mode, PinValue? initial)
    {
        if (line < 0 || line >= LineCount)
        {
            throw new GpioException($"{Name} line {line}: the chip has lines 0 to {LineCount - 1}");
        }

        try
        {
            _ = initial is { } value ? _controller.OpenPin(line, mode, value) : _controller.OpenPin(line, mode);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ExternalException or UnauthorizedAccessException)
        {
            throw new GpioException($"{Name} line {line}: {e.Message.ReplaceLineEndings(" ").Trim()}");
        }
    }

    private void Close(int line)
    {
        if (_controller.IsPinOpen(line))
        {
            _controller.ClosePin(line);
        }
    }

    public void Dispose() => _controller.Dispose();

    private sealed class Output(ControllerGpioChip chip, int line, bool activeLow, bool active) : IGpioOutput
    {
        public int Line => line;

        public bool IsActive { get; private set; } = active;

        public void Drive(bool active)
        {
            chip._controller.Write(line, active != activeLow ? PinValue.High : PinValue.Low);
            IsActive = active;
        }

        public void Dispose() => chip.Close(line);
    }

    private sealed class Input(ControllerGpioChip chip, int line, bool activeLow) : IGpioInput
    {
        public int Line => line;

        public bool IsActive => (chip._controller.Read(line) == PinValue.High) != activeLow;

        public GpioEdge? WaitForEdge(TimeSpan timeout)
        {
            var result = chip._controller.WaitForEvent(line, PinEventTypes.Rising | PinEventTypes.Falling, timeout);
            return result.TimedOut ? null : new GpioEdge((result.EventTypes == PinEventTypes.Rising) != activeLow);
        }

        public void Dispose() => chip.Close(line);
    }
}
