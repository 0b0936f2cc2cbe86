using System.Text;
using CsCheck;
using Microsoft.Extensions.Options;
using VoiceHub.App.Cli;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Language;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Fuzz;

/// <summary>
/// Every parser of outside input, fed valid files with random damage: each answer is a result or
/// the parser's own one-line error, never another exception type, a native abort (model files that
/// pass the managed checks are loaded by the real engine), a hang or memory out of proportion to
/// the input. CsCheck shrinks a failure to the smallest damage that still fails and prints its seed.
/// </summary>
[Trait("Category", "fuzz")]
[Trait("needs", "native")]
public sealed class ParserFuzzTests : IDisposable
{
    // Per parser: a few thousand cases for the fast managed ones, a few hundred where each case writes a model file.
    private const long ManyCases = 3000;
    private const long ModelCases = 300;

    // Fixed, so CI replays the same cases on every run (exploration is run-afl.sh's job, and a new
    // seed is one environment variable away: CsCheck_Seed=... ./voicehub test).
    private static readonly string s_seed = Environment.GetEnvironmentVariable("CsCheck_Seed") is { Length: > 0 } given ? given : "3jwcL7psOme1";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Wav_files()
    {
        byte[][] seeds = [Wav(16000, 1, 16, 1), Wav(44100, 2, 24, 1), Wav(48000, 1, 32, 3), Wav(8000, 2, 8, 1)];
        Gen.Int[0, seeds.Length - 1].SelectMany(i => MutationGen.Of(seeds[i], MutationGen.Binary)).Sample(input => OneLineOr<AudioFormatException>(input, () =>
        {
            using var reader = WavReader.Open("fuzz.wav", new MemoryStream(input));
            var buffer = new float[4096];
            while (reader.Read(buffer) > 0)
            {
            }
        }), iter: ManyCases, threads: 1, seed: s_seed);
    }

    [Fact]
    public void Gguf_models_are_refused_in_managed_code_or_loaded_by_llama_cpp()
    {
        var valid = File.ReadAllBytes(TestPaths.LlamaTestModel);
        var path = _dir.File("fuzz.gguf");
        MutationGen.Of(valid, MutationGen.Binary).Sample(input => OneLineOr<ModelFormatException>(input, () =>
        {
            File.WriteAllBytes(path, input);
            using var model = LanguageModel.Load(path); // reaches llama.cpp only after GgufFile.Read accepted it
        }), iter: ModelCases, threads: 1, seed: s_seed);
    }

    [Fact]
    public void Whisper_models_are_refused_in_managed_code_or_loaded_by_whisper_cpp()
    {
        var valid = File.ReadAllBytes(TestPaths.WhisperTestModel);
        var path = _dir.File("fuzz.bin");
        MutationGen.Of(valid, MutationGen.Binary).Sample(input => OneLineOr<ModelFormatException>(input, () =>
        {
            File.WriteAllBytes(path, input);
            using var model = new VoiceHub.Core.Speech.WhisperEngine(path, new VoiceHub.Core.Speech.WhisperEngineOptions(), null, VoiceHub.Core.Devices.DeviceRegistry.Empty);
        }), iter: ModelCases, threads: 1, seed: s_seed);
    }

    [Fact]
    public void Intents_yaml()
    {
        byte[][] seeds = [.. Directory.GetFiles(Path.Combine(TestPaths.Root, "intents", "en"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
        var common = File.ReadAllText(Path.Combine(TestPaths.Root, "intents", "en", "_common.yaml"));
        Gen.Int[0, seeds.Length - 1].SelectMany(i => MutationGen.Of(seeds[i], MutationGen.Text)).Sample(input => OneLineOr<ConfigurationFileException>(input, () =>
        {
            var path = _dir.File("intents.yaml");
            File.WriteAllBytes(path, input);
            IntentSet.Parse([("_common.yaml", common), (path, YamlFile.ReadText(path))]);
        }), iter: ManyCases, threads: 1, seed: s_seed);
    }

    [Fact]
    public void Devices_yaml()
    {
        var valid = File.ReadAllBytes(Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml"));
        MutationGen.Of(valid, MutationGen.Text).Sample(input => OneLineOr<ConfigurationFileException>(input, () =>
        {
            var path = _dir.File("devices.yaml");
            File.WriteAllBytes(path, input);
            DevicesFile.Load(path);
        }), iter: ManyCases, threads: 1, seed: s_seed);
    }

    [Fact]
    public void Configuration_yaml()
    {
        var valid = File.ReadAllBytes(Path.Combine(TestPaths.Root, "systemd", "config.yaml"));
        MutationGen.Of(valid, MutationGen.Text).Sample(input => OneLineOr<ConfigurationFileException, OptionsValidationException>(input, () =>
        {
            var path = _dir.File("config.yaml");
            File.WriteAllBytes(path, input);
            using var configuration = AppConfiguration.Load(path);
            configuration.ValidateAll();
        }), iter: ManyCases / 3, threads: 1, seed: s_seed);
    }

    [Fact]
    public void Discovery_payloads_never_throw()
    {
        (string Topic, string Payload)[] seeds =
        [
            DiscoveryPayloads.Z2mLight("0x00158d0001a2b3c4", "Kitchen ceiling", "kitchen_ceiling", "Kitchen"),
            DiscoveryPayloads.Z2mCover("0x00158d0001a2b3c5", "Garage door", "garage_door"),
            DiscoveryPayloads.Z2mThermostat("0x00158d0001a2b3c6", "Radiator", "radiator", "Office"),
            DiscoveryPayloads.TasmotaDimmer("A1B2C3D4E5F6", "Porch"),
        ];
        using var home = new Home(DeviceRegistry.Empty, new RecordingLogger(), discoveryCoalescing: TimeSpan.FromHours(1));
        Gen.Int[0, seeds.Length - 1].SelectMany(i => MutationGen.Of(Encoding.UTF8.GetBytes(seeds[i].Payload), MutationGen.Text).Select(p => (seeds[i].Topic, Payload: p)))
            .Sample(message => Bounded(message.Payload, () => home.ApplyDiscovery(message.Topic, message.Payload)), iter: ManyCases, threads: 1, seed: s_seed);
    }

    [Fact]
    public void State_payloads_never_throw()
    {
        using var home = new Home(DeviceRegistry.Empty, new RecordingLogger(), discoveryCoalescing: TimeSpan.FromHours(1));
        foreach (var (topic, payload) in new[]
        {
            DiscoveryPayloads.Z2mLight("0x00158d0001a2b3c4", "Kitchen ceiling", "kitchen_ceiling"),
            DiscoveryPayloads.Z2mCover("0x00158d0001a2b3c5", "Garage door", "garage_door"),
            DiscoveryPayloads.Z2mThermostat("0x00158d0001a2b3c6", "Radiator", "radiator"),
        })
        {
            home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload));
        }

        var states = new EntityStateStore(new RecordingLogger());
        states.Bind(home.Current);
        (string Topic, string Payload)[] seeds =
        [
            ("zigbee2mqtt/Kitchen ceiling", """{"state":"ON","brightness":254,"color":{"x":0.3,"y":0.3},"color_temp":370}"""),
            ("zigbee2mqtt/Garage door", """{"state":"OPEN","position":100}"""),
            ("zigbee2mqtt/Radiator", """{"local_temperature":20.5,"current_heating_setpoint":21,"system_mode":"heat"}"""),
        ];
        Gen.Int[0, seeds.Length - 1].SelectMany(i => MutationGen.Of(Encoding.UTF8.GetBytes(seeds[i].Payload), MutationGen.Text).Select(p => (seeds[i].Topic, Payload: p)))
            .Sample(message => Bounded(message.Payload, () => states.Handle(message.Topic, message.Payload)), iter: ManyCases, threads: 1, seed: s_seed);
    }

    [Fact]
    public void Spoken_text_never_throws()
    {
        var recognizer = IntentRecognizer.Create(IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")), DevicesFile.Load(Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml")));
        string[] seeds = ["turn on the kitchen light", "set the thermostat to 21 degrees", "open the garage door", "set a timer for 5 minutes", "what time is it"];
        Gen.Int[0, seeds.Length - 1].SelectMany(i => MutationGen.Of(Encoding.UTF8.GetBytes(seeds[i]), MutationGen.Text)).Sample(input =>
        {
            var text = Encoding.UTF8.GetString(input);
            Bounded(input, () =>
            {
                if (IntentRecognizer.Problem(text) is null)
                {
                    _ = recognizer.RecognizeAsync(text).GetAwaiter().GetResult();
                }
            });
        }, iter: ManyCases, threads: 1, seed: s_seed);
    }

    private static void OneLineOr<TError>(byte[] input, Action parse)
        where TError : Exception => OneLineOr<TError, TError>(input, parse);

    private static void OneLineOr<TError, TOther>(byte[] input, Action parse)
        where TError : Exception
        where TOther : Exception => Bounded(input, () =>
        {
            try
            {
                parse();
            }
            catch (Exception e) when (e is TError or TOther)
            {
                Assert.DoesNotContain('\n', e.Message.TrimEnd());
            }
        });

    /// <summary>Runs a parse and fails when it allocated far more than its input justifies.</summary>
    private static void Bounded(byte[] input, Action parse)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        parse();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var allowed = (256L * input.Length) + (64L << 20);
        Assert.True(allocated <= allowed, $"a {input.Length}-byte input allocated {allocated} bytes");
    }

    private static byte[] Wav(int rate, int channels, int bits, int tag)
    {
        var frames = rate / 20;
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        var data = frames * channels * bits / 8;
        writer.Write("RIFF"u8);
        writer.Write(36 + data);
        writer.Write("WAVEfmt "u8);
        writer.Write(16);
        writer.Write((short)tag);
        writer.Write((short)channels);
        writer.Write(rate);
        writer.Write(rate * channels * bits / 8);
        writer.Write((short)(channels * bits / 8));
        writer.Write((short)bits);
        writer.Write("data"u8);
        writer.Write(data);
        var random = new Random(rate);
        var bytes = new byte[data];
        random.NextBytes(bytes);
        writer.Write(bytes);
        writer.Flush();
        return stream.ToArray();
    }
}
