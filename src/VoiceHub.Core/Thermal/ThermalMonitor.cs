using System.Diagnostics;
using System.Globalization;

namespace VoiceHub.Core.Thermal;

/// <summary>Thermal state of the board at one moment.</summary>
public sealed record ThermalReading(
    double? HottestCelsius,
    IReadOnlyDictionary<string, double> Zones,
    double? FrequencyRatio,
    bool FrequencyCapped,
    ThrottleState Throttle)
{
    /// <summary>The board is being held back right now (not merely was, since boot).</summary>
    public bool IsThrottled => FrequencyCapped || (Throttle & ThrottleState.Now) != 0;
}

/// <summary>The Raspberry Pi firmware's <c>get_throttled</c> bits.</summary>
[Flags]
public enum ThrottleState
{
    None = 0,
    UnderVoltage = 1 << 0,
    FrequencyCapped = 1 << 1,
    Throttled = 1 << 2,
    SoftTemperatureLimit = 1 << 3,
    UnderVoltageOccurred = 1 << 16,
    FrequencyCapOccurred = 1 << 17,
    ThrottlingOccurred = 1 << 18,
    SoftTemperatureLimitOccurred = 1 << 19,

    /// <summary>The bits that describe the present.</summary>
    Now = UnderVoltage | FrequencyCapped | Throttled | SoftTemperatureLimit,
}

/// <summary>
/// Reads heat and throttling the way the boards expose them: every
/// <c>/sys/class/thermal/thermal_zone*/{type,temp}</c> (Raspberry Pi cpu-thermal, Jetson
/// CPU-therm/GPU-therm/SOC*-therm, x86 x86_pkg_temp), cpufreq's current and allowed maximum
/// against the hardware maximum, and the Raspberry Pi firmware's throttle flags (the
/// <c>get_throttled</c> sysfs node, or <c>vcgencmd get_throttled</c>). The root is configurable so
/// tests drive a fake tree.
/// </summary>
public sealed class ThermalMonitor(string sysRoot = "/sys", string? vcgencmd = null)
{
    private static readonly string[] s_throttleNodes =
    [
        "devices/platform/soc/soc:firmware/get_throttled",
        "devices/platform/soc/soc:firmware/raspberrypi-hwmon/get_throttled",
    ];

    public ThermalReading Read()
    {
        var zones = new Dictionary<string, double>(StringComparer.Ordinal);
        var thermal = Path.Combine(sysRoot, "class", "thermal");
        if (Directory.Exists(thermal))
        {
            foreach (var zone in Directory.GetDirectories(thermal, "thermal_zone*").Order(StringComparer.Ordinal))
            {
                if (ReadLong(Path.Combine(zone, "temp")) is { } milli && milli > -50_000 && milli < 150_000)
                {
                    var type = ReadText(Path.Combine(zone, "type")) ?? Path.GetFileName(zone);
                    zones[zones.ContainsKey(type) ? $"{type}#{Path.GetFileName(zone)}" : type] = milli / 1000.0;
                }
            }
        }

        double? ratio = null;
        var capped = false;
        var cpufreq = Path.Combine(sysRoot, "devices", "system", "cpu", "cpu0", "cpufreq");
        if (ReadLong(Path.Combine(cpufreq, "cpuinfo_max_freq")) is { } hardwareMax && hardwareMax > 0)
        {
            if (ReadLong(Path.Combine(cpufreq, "scaling_cur_freq")) is { } current)
            {
                ratio = (double)current / hardwareMax;
            }

            // A thermal governor caps the allowed maximum; idle clocks alone are not throttling.
            capped = ReadLong(Path.Combine(cpufreq, "scaling_max_freq")) is { } allowed && allowed < hardwareMax * 0.95;
        }

        return new ThermalReading(zones.Count > 0 ? zones.Values.Max() : null, zones, ratio, capped, ReadThrottle());
    }

    private ThrottleState ReadThrottle()
    {
        foreach (var node in s_throttleNodes)
        {
            if (ReadText(Path.Combine(sysRoot, node)) is { } text && ParseHex(text) is { } flags)
            {
                return flags;
            }
        }

        if (vcgencmd is not null && File.Exists(vcgencmd))
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(vcgencmd, "get_throttled") { RedirectStandardOutput = true, RedirectStandardError = true })!;
                var output = process.StandardOutput.ReadToEnd(); // "throttled=0x50005"
                process.WaitForExit(2000);
                return ParseHex(output.Split('=').Last()) ?? ThrottleState.None;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return ThrottleState.None;
            }
        }

        return ThrottleState.None;
    }

    private static ThrottleState? ParseHex(string text)
    {
        var trimmed = text.Trim();
        trimmed = trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? trimmed[2..] : trimmed;
        return int.TryParse(trimmed, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value) ? (ThrottleState)value : null;
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ReadLong(string path) =>
        long.TryParse(ReadText(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
