using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Models;
using VoiceHub.Core.Mqtt;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;

namespace VoiceHub.Core.Diagnostics;

public enum FindingStatus
{
    Ok,
    Warning,
    Fix,
}

/// <summary>One line of <c>voicehub doctor</c>: what was checked, and either what is there or what to do.</summary>
public sealed record Finding(FindingStatus Status, string Subject, string Detail);

/// <summary>Where the machine's state is read from; tests point it at fake trees.</summary>
public sealed record MachineRoots(string Proc = "/proc", string Sys = "/sys", string Dev = "/dev");

/// <summary>
/// Checks everything the appliance depends on: native engines and libraries, models, audio
/// devices, the MQTT broker, thermal sources and GPIO. Each finding says OK or what to run.
/// </summary>
public sealed class Doctor(ModelsOptions models, MqttOptions mqtt, MachineRoots roots)
{
    private static readonly (string Library, string What)[] s_systemLibraries =
    [
        ("pocketsphinx", "pocketsphinx library"),
        ("sphinxbase", "sphinxbase library"),
        ("mosquitto", "mosquitto library"),
        ("asound", "ALSA library"),
        ("soxr", "soxr resampler"),
        ("gpiod", "libgpiod"),
    ];

    public async Task<IReadOnlyList<Finding>> RunAsync(CancellationToken cancellationToken = default)
    {
        var findings = new List<Finding>();
        findings.AddRange(Engines());
        findings.AddRange(SystemLibraries());
        findings.AddRange(Models());
        findings.AddRange(AudioDevices());
        findings.Add(await BrokerAsync(cancellationToken).ConfigureAwait(false));
        findings.AddRange(Thermal());
        findings.AddRange(Gpio());
        return findings;
    }

    public static IEnumerable<Finding> Engines()
    {
        Finding whisper;
        try
        {
            whisper = new Finding(FindingStatus.Ok, "whisper engine", $"Whisper.net {typeof(Whisper.net.WhisperFactory).Assembly.GetName().Version?.ToString(3)}: {Speech.WhisperEngine.RuntimeInfo.ReplaceLineEndings(" ").Trim()}");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            whisper = new Finding(FindingStatus.Fix, "whisper engine", $"Whisper.net's native runtime did not load: {e.Message}");
        }

        yield return whisper;
        Finding llama;
        try
        {
            llama = new Finding(FindingStatus.Ok, "llama engine", $"LLamaSharp {LlamaSharpVersion()}: {Language.LanguageModel.SystemInfo.ReplaceLineEndings(" ").Trim()}");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or LLama.Exceptions.RuntimeError)
        {
            llama = new Finding(FindingStatus.Fix, "llama engine", $"LLamaSharp's native backend did not load: {e.Message}");
        }

        yield return llama;
    }

    /// <summary>The LLamaSharp package version this build references (its assembly carries none).</summary>
    private static string LlamaSharpVersion() =>
        typeof(Doctor).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "LLamaSharpVersion")?.Value ?? "unknown";

    public static IEnumerable<Finding> SystemLibraries()
    {
        foreach (var (library, what) in s_systemLibraries)
        {
            var found = NativeLibraryResolver.FindSystemLibrary(library, out var packages);
            yield return found is not null
                ? new Finding(FindingStatus.Ok, what, found)
                : new Finding(FindingStatus.Fix, what, $"not installed: run: sudo apt-get install -y {packages}");
        }
    }

    public IEnumerable<Finding> Models()
    {
        var acoustic = models.PocketsphinxModelDirectory;
        yield return File.Exists(Path.Combine(acoustic, "en-us", "mdef")) && File.Exists(Path.Combine(acoustic, "cmudict-en-us.dict"))
            ? new Finding(FindingStatus.Ok, "pocketsphinx model", acoustic)
            : new Finding(FindingStatus.Fix, "pocketsphinx model", $"{acoustic} is missing: run: sudo apt-get install -y pocketsphinx-en-us");

        var directory = models.Directory;
        if (!Directory.Exists(directory))
        {
            yield return new Finding(FindingStatus.Warning, "models", $"{directory} does not exist: whisper and language models go there (voicehub models list); pocketsphinx is used until then");
            yield break;
        }

        var whisperCount = 0;
        var ggufCount = 0;
        foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            var size = FormatSize(new FileInfo(file).Length);
            if (name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                ggufCount++;
                yield return Check(file, () =>
                {
                    var gguf = GgufFile.Read(file);
                    return $"{name}: {gguf.Architecture} {gguf.DominantTensorType.Name}, {size}";
                });
            }
            else if (name.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
            {
                whisperCount++;
                yield return Check(file, () =>
                {
                    var whisper = WhisperModelFile.Read(file);
                    var weights = whisper.IsPlaceholder ? "placeholder weights (test model)" : whisper.WeightType.Name;
                    return $"{name}: whisper {whisper.HyperParameters.SizeName}{(whisper.HyperParameters.IsMultilingual ? string.Empty : ".en")} {weights}, {size}";
                });
            }
        }

        if (whisperCount == 0)
        {
            yield return new Finding(FindingStatus.Warning, "whisper model", $"none in {directory}: commands use the pocketsphinx engine (voicehub models list shows what to download)");
        }

        if (ggufCount == 0)
        {
            yield return new Finding(FindingStatus.Warning, "language model", $"none in {directory}: sentences no template matches are not understood (voicehub models list)");
        }
    }

    private static Finding Check(string file, Func<string> describe)
    {
        try
        {
            return new Finding(FindingStatus.Ok, "model", describe());
        }
        catch (ModelFormatException e)
        {
            return new Finding(FindingStatus.Fix, "model", $"{e.Message}: delete it and download it again");
        }
    }

    public IEnumerable<Finding> AudioDevices()
    {
        var pcm = Path.Combine(roots.Proc, "asound", "pcm");
        var captures = File.Exists(pcm)
            ? File.ReadAllLines(pcm).Where(l => l.Contains("capture", StringComparison.Ordinal)).ToList()
            : [];
        if (captures.Count == 0)
        {
            yield return new Finding(FindingStatus.Warning, "microphone", "no ALSA capture device: use run --input FILE.wav, or plug in a USB microphone");
            yield break;
        }

        foreach (var line in captures)
        {
            // "00-00: USB Audio : USB Audio : playback 1 : capture 1" -> hw:0,0
            var id = line.Split(':')[0].Trim().Split('-');
            var device = id.Length == 2 ? $"hw:{int.Parse(id[0], CultureInfo.InvariantCulture)},{int.Parse(id[1], CultureInfo.InvariantCulture)}" : line;
            yield return new Finding(FindingStatus.Ok, "microphone", $"{device} {line.Split(':').ElementAtOrDefault(1)?.Trim()}");
        }
    }

    public async Task<Finding> BrokerAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(mqtt.Host, mqtt.Port, timeout.Token).ConfigureAwait(false);
            return new Finding(FindingStatus.Ok, "MQTT broker", $"{mqtt.Host}:{mqtt.Port} accepts connections");
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            var remedy = mqtt.StartPrivateBroker
                ? "voicehub run starts a private mosquitto on loopback; point mqtt.host at Home Assistant's broker to use it"
                : "check mqtt.host and mqtt.port in the config";
            return new Finding(FindingStatus.Warning, "MQTT broker", $"nothing answers at {mqtt.Host}:{mqtt.Port}: {remedy}");
        }
    }

    public IEnumerable<Finding> Thermal()
    {
        var thermal = Path.Combine(roots.Sys, "class", "thermal");
        var zones = Directory.Exists(thermal) ? Directory.GetDirectories(thermal, "thermal_zone*").Order(StringComparer.Ordinal).ToList() : [];
        if (zones.Count == 0)
        {
            yield return new Finding(FindingStatus.Warning, "thermal", $"no thermal zones under {thermal}: the scheduler cannot see heat and stays on its configured tier");
        }

        foreach (var zone in zones)
        {
            var type = ReadTrimmed(Path.Combine(zone, "type")) ?? Path.GetFileName(zone);
            var temp = ReadTrimmed(Path.Combine(zone, "temp"));
            yield return long.TryParse(temp, CultureInfo.InvariantCulture, out var milli)
                ? new Finding(FindingStatus.Ok, "thermal", $"{Path.GetFileName(zone)} {type} {milli / 1000.0:0.0} °C")
                : new Finding(FindingStatus.Warning, "thermal", $"{Path.GetFileName(zone)} {type}: temperature unreadable");
        }

        var cpufreq = Path.Combine(roots.Sys, "devices", "system", "cpu", "cpu0", "cpufreq");
        var current = ReadTrimmed(Path.Combine(cpufreq, "scaling_cur_freq"));
        var maximum = ReadTrimmed(Path.Combine(cpufreq, "cpuinfo_max_freq"));
        yield return current is not null && maximum is not null
            ? new Finding(FindingStatus.Ok, "cpu frequency", $"{long.Parse(current, CultureInfo.InvariantCulture) / 1000} of {long.Parse(maximum, CultureInfo.InvariantCulture) / 1000} MHz")
            : new Finding(FindingStatus.Warning, "cpu frequency", "no cpufreq: frequency throttling is not visible (normal in a VM)");
    }

    public IEnumerable<Finding> Gpio()
    {
        var chips = Directory.Exists(roots.Dev) ? Directory.GetFiles(roots.Dev, "gpiochip*").Order(StringComparer.Ordinal).ToList() : [];
        if (chips.Count == 0)
        {
            yield return new Finding(FindingStatus.Warning, "GPIO", "no /dev/gpiochip*: GPIO buttons, relays and LEDs are unavailable (normal off a board)");
        }

        foreach (var chip in chips)
        {
            yield return new Finding(FindingStatus.Ok, "GPIO", chip);
        }
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1 << 30 => $"{bytes / (double)(1 << 30):0.0} GiB",
        >= 1 << 20 => $"{bytes / (double)(1 << 20):0.0} MiB",
        >= 1 << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
