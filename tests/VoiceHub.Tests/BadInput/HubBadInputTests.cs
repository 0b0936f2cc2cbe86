using System.Text;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Mqtt;
using VoiceHub.Tests.Cli;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.BadInput;

/// <summary>
/// Bad input to a running or starting hub: a bad recording for <c>run --once</c>, misspelt
/// configuration, an outbox that cannot be written, a discovery flood (issue 17, failures 2 and 7 to 9).
/// </summary>
[Trait("needs", "native")]
public sealed class HubBadInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("text.wav", "hello, I am not audio\n", 2, "not a WAV file (no RIFF/WAVE header)")]
    [InlineData("empty.wav", "", 1, "empty file (0 bytes)")]
    public async Task Run_once_on_a_bad_wav_ends_non_zero_with_one_line_naming_it(string name, string content, int exitCode, string problem)
    {
        var wav = _dir.File(name);
        await File.WriteAllTextAsync(wav, content);
        var config = _dir.File("config.yaml");
        await File.WriteAllTextAsync(config, $"hub:\n  stateDirectory: {_dir.Path}/state\nmqtt:\n  port: 1\n  startPrivateBroker: false\n");

        // Before the fix the worker restarted the failing pipeline forever: the wait is what catches that.
        var (code, _, error) = await CliTests.Run("run", "--config", config, "--input", wav, "--once", "--fast").WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(exitCode, code);
        Assert.Equal($"voicehub run: {wav}: {problem}", error.TrimEnd());
    }

    [Theory]
    [InlineData("mqqt:\n  host: broker.local\n", "unknown section 'mqqt' (did you mean 'mqtt'?)")]
    [InlineData("speach:\n  engine: whisper\n", "unknown section 'speach' (did you mean 'speech'?)")]
    [InlineData("speech:\n  engin: whisper\n", "'speech:engin' is not a setting (did you mean 'engine'?)")]
    [InlineData("speech:\n  whisper:\n    modle: x.bin\n", "'speech:whisper:modle' is not a setting (did you mean 'model'?)")]
    [InlineData("wake:\n  phrases: jarvis\n", "'wake:phrases' must be a list")]
    [InlineData("wake:\n  phrases:\n    - phrase: jarvis\n      sensitivty: 0.5\n", "'wake:phrases:0:sensitivty' is not a setting")]
    [InlineData("mqtt: broker.local\n", "'mqtt' must be a mapping of settings")]
    [InlineData("pipeline:\n  area: [kitchen]\n", "'pipeline:area' must be a single value")]
    [InlineData("gpio:\n  ledRing:\n    brightnes: 0.3\n", "'gpio:ledRing:brightnes' is not a setting (did you mean 'brightness'?)")]
    [InlineData("gpio:\n  roomSensor:\n    kind: dht22\n", "gpio.roomSensor: The field Kind must match")]
    [InlineData("gpio:\n  ledRing:\n    leds: 0\n", "gpio.ledRing: The field Leds must be between 1 and 255")]
    [InlineData("speech:\n  pocketsphinx:\n    acousticAdaptation: /nonexistent/kitchen.mllr\n", "speech:pocketsphinx:acousticAdaptation: /nonexistent/kitchen.mllr: cannot read the MLLR transform")]
    [InlineData("speech:\n  pocketsphinx:\n    acousticAdaptation: /etc/hostname\n", "speech:pocketsphinx:acousticAdaptation: /etc/hostname: not an MLLR transform")]
    public async Task A_misspelt_or_misshapen_configuration_key_is_one_line_naming_it(string yaml, string problem)
    {
        var config = _dir.File("config.yaml");
        await File.WriteAllTextAsync(config, yaml);

        var (code, _, error) = await CliTests.Run("doctor", "--config", config);

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_section_and_key_of_the_shipped_config_fits_the_schema()
    {
        using var configuration = VoiceHub.App.Cli.AppConfiguration.Load(Path.Combine(TestPaths.Root, "systemd", "config.yaml"));

        configuration.ValidateAll(); // throws on any unknown section or key
        Assert.NotEmpty(configuration.Root.GetChildren());
    }

    [Fact]
    public async Task An_outbox_that_cannot_be_written_is_said_at_start_and_lost_commands_are_counted_not_thrown()
    {
        var blocker = _dir.File("not-a-directory");
        await File.WriteAllTextAsync(blocker, "a file where the state directory should be"); // unwritable even for root
        var log = new RecordingLogger();
        var options = new MqttOptions { Host = "127.0.0.1", Port = 1, HubId = "test", OutboxFile = Path.Combine(blocker, "outbox.jsonl"), CommandExpiry = TimeSpan.FromMinutes(5) };
        var bus = new MqttBus(options, log);
        bus.Start();
        Assert.Contains(log.Warnings, w => w.Contains("cannot be written", StringComparison.Ordinal) && w.Contains(blocker, StringComparison.Ordinal));

        var receipt = bus.SendCommandAsync("zigbee2mqtt/Lamp/set", "ON");
        await bus.DisposeAsync();

        Assert.Equal(CommandOutcome.Abandoned, (await receipt.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
        Assert.Equal(1, bus.LostAtShutdown);
        Assert.Contains(log.Warnings, w => w.StartsWith("1 undelivered command(s) lost at shutdown", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_writable_outbox_keeps_queued_commands_and_counts_none_lost()
    {
        var log = new RecordingLogger();
        var options = new MqttOptions { Host = "127.0.0.1", Port = 1, HubId = "test", OutboxFile = _dir.File("state/outbox.jsonl"), CommandExpiry = TimeSpan.FromMinutes(5) };
        var bus = new MqttBus(options, log);
        bus.Start();

        var receipt = bus.SendCommandAsync("zigbee2mqtt/Lamp/set", "ON");
        await bus.DisposeAsync();

        Assert.Equal(CommandOutcome.KeptForRestart, (await receipt.WaitAsync(TimeSpan.FromSeconds(10))).Outcome);
        Assert.Equal(0, bus.LostAtShutdown);
        Assert.Single(File.ReadAllLines(options.OutboxFile));
    }

    [Fact]
    public void A_discovery_flood_becomes_one_new_home_not_one_per_config()
    {
        using var home = new Home(DeviceRegistry.Empty, new RecordingLogger(), discoveryCoalescing: TimeSpan.FromHours(1));
        var changes = 0;
        home.Changed += _ => changes++;

        for (var i = 0; i < 10_000; i++)
        {
            var (topic, payload) = DiscoveryPayloads.Z2mPlug($"0x{i:x16}", $"Plug {i}", $"plug_{i}");
            Assert.True(home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload)));
        }

        Assert.Equal(0, changes); // nothing rebuilt while the flood lasts
        home.FlushChanges();
        Assert.Equal(1, changes);
        Assert.Equal(10_000, home.Current.Entities.Count);
    }

    [Fact]
    public void Discovery_past_the_cap_is_ignored_with_one_warning()
    {
        var log = new RecordingLogger();
        using var home = new Home(DeviceRegistry.Empty, log, maxDiscoveredEntities: 100, discoveryCoalescing: TimeSpan.FromHours(1));

        var accepted = Enumerable.Range(0, 150).Count(i =>
        {
            var (topic, payload) = DiscoveryPayloads.Z2mPlug($"0x{i:x16}", $"Plug {i}", $"plug_{i}");
            return home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload));
        });

        Assert.Equal(100, accepted);
        Assert.Equal(100, home.Current.Entities.Count);
        Assert.Single(log.Warnings, w => w.Contains("cap of 100 discovered entities", StringComparison.Ordinal));
        var (first, _) = DiscoveryPayloads.Z2mPlug($"0x{0:x16}", "Plug 0", "plug_0");
        Assert.True(home.ApplyDiscovery(first, []), "removing an entity under the cap still works");
    }

    [Fact]
    public async Task Coalesced_discovery_changes_arrive_by_themselves_after_the_window()
    {
        using var home = new Home(DeviceRegistry.Empty, new RecordingLogger(), discoveryCoalescing: TimeSpan.FromMilliseconds(50));
        var changed = new TaskCompletionSource<DeviceRegistry>(TaskCreationOptions.RunContinuationsAsynchronously);
        home.Changed += r => changed.TrySetResult(r);
        var (topic, payload) = DiscoveryPayloads.Z2mPlug("0x00000000000000aa", "Coffee plug", "coffee_plug");

        home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload));

        var registry = await changed.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotNull(registry.FindEntity("switch.coffee_plug"));
    }
}

/// <summary>A home far larger than a speech grammar can hold (issue 17, failure 9): the grammar names a bounded part of it.</summary>
[Trait("needs", "native")]
public sealed class LargeHomeGrammarTests
{
    [Fact]
    public void The_closed_set_grammar_names_the_devices_files_entities_first_and_stops_at_its_cap()
    {
        var curated = new Entity("light.kitchen_ceiling", "kitchen light", null, [], null, new Dictionary<string, object?>());
        var discovered = Enumerable.Range(0, 50).Select(i => new Entity($"switch.plug_{i}", $"{s_fruits[i % 10]} {s_animals[i / 10]} plug", null, [], null, new Dictionary<string, object?>(), Source: "mqtt"));
        var registry = new DeviceRegistry([], [], [.. discovered, curated]);
        var intents = VoiceHub.Core.Intents.IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en"));

        using var engine = new VoiceHub.Core.Speech.PocketsphinxCommandEngine("/usr/share/pocketsphinx/model/en-us", new VoiceHub.Core.Speech.PocketsphinxEngineOptions { MaxGrammarEntities = 10 }, intents, registry);

        Assert.Equal(10, engine.GrammarRegistry.Entities.Count);
        Assert.Equal("light.kitchen_ceiling", engine.GrammarRegistry.Entities[0].Id); // curated before discovered, though listed last
        Assert.Equal(["switch.plug_0", "switch.plug_1"], engine.GrammarRegistry.Entities.Skip(1).Take(2).Select(e => e.Id));
        Assert.Contains("tiger", engine.Grammar.Words);
        Assert.DoesNotContain("zebra", engine.Grammar.Words); // the last discovered names are past the cap
        Assert.Contains("kitchen", engine.Grammar.Words);
    }

    private static readonly string[] s_fruits = ["apple", "banana", "cherry", "lemon", "mango", "melon", "peach", "pear", "plum", "grape"];
    private static readonly string[] s_animals = ["tiger", "horse", "camel", "otter", "zebra"];
}
