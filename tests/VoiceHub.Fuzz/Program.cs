using System.Text;
using Microsoft.Extensions.Options;
using SharpFuzz;
using VoiceHub.App.Cli;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;

// afl-fuzz runs this once per parser; each input either parses or fails with the parser's own
// one-line error. Anything else escapes and afl-fuzz records it as a crash.
var parsers = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
{
    ["wav"] = input => Expect<AudioFormatException>(() =>
    {
        using var reader = WavReader.Open("fuzz.wav", new MemoryStream(input));
        var buffer = new float[4096];
        while (reader.Read(buffer) > 0)
        {
        }
    }),
    ["gguf"] = input => Expect<ModelFormatException>(() => GgufFile.Read(Scratch(input))),
    ["whisper"] = input => Expect<ModelFormatException>(() => WhisperModelFile.Read(Scratch(input))),
    ["intents"] = input => Expect<ConfigurationFileException>(() =>
    {
        var path = Scratch(input);
        IntentSet.Parse([("_common.yaml", Program.Common.Value), (path, YamlFile.ReadText(path))]);
    }),
    ["devices"] = input => Expect<ConfigurationFileException>(() => DevicesFile.Load(Scratch(input))),
    ["config"] = input => ExpectEither<ConfigurationFileException, OptionsValidationException>(() =>
    {
        using var configuration = AppConfiguration.Load(Scratch(input));
        configuration.ValidateAll();
    }),
    ["discovery"] = input =>
    {
        using var home = new Home(DeviceRegistry.Empty, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, discoveryCoalescing: TimeSpan.FromHours(1));
        home.ApplyDiscovery("homeassistant/light/0x00158d0001a2b3c4/light/config", input);
        _ = home.Current;
    },
    ["text"] = input =>
    {
        var text = Encoding.UTF8.GetString(input);
        if (IntentRecognizer.Problem(text) is null)
        {
            _ = Program.Recognizer.Value.RecognizeAsync(text).GetAwaiter().GetResult();
        }
    },
};

if (args.Length != 1 || !parsers.TryGetValue(args[0], out var parse))
{
    Console.Error.WriteLine($"usage: VoiceHub.Fuzz {string.Join('|', parsers.Keys)}   (run by tests/VoiceHub.Fuzz/run-afl.sh)");
    return 2;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    parse(memory.ToArray());
});
return 0;

static void Expect<TError>(Action parse)
    where TError : Exception => ExpectEither<TError, TError>(parse);

static void ExpectEither<TError, TOther>(Action parse)
    where TError : Exception
    where TOther : Exception
{
    try
    {
        parse();
    }
    catch (Exception e) when ((e is TError or TOther) && !e.Message.TrimEnd().Contains('\n', StringComparison.Ordinal))
    {
    }
}

// The parsers read files, as the appliance does: one scratch file per fuzzing process.
static string Scratch(byte[] input)
{
    var path = Path.Combine(Path.GetTempPath(), $"voicehub-fuzz-{Environment.ProcessId}.input");
    File.WriteAllBytes(path, input);
    return path;
}

internal static partial class Program
{
    public static readonly Lazy<string> Common = new(() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fuzz-home", "intents", "_common.yaml")));

    public static readonly Lazy<IntentRecognizer> Recognizer = new(() => IntentRecognizer.Create(
        IntentSet.Load(Path.Combine(AppContext.BaseDirectory, "fuzz-home", "intents")),
        DevicesFile.Load(Path.Combine(AppContext.BaseDirectory, "fuzz-home", "devices.yaml"))));
}
