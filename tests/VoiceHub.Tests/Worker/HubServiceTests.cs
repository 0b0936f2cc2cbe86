using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VoiceHub.App.Cli;
using VoiceHub.App.Worker;
using VoiceHub.Core.Hosting;
using VoiceHub.Core.Models;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Wake;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary><c>voicehub run</c> as a whole: the Generic Host, a real broker, the demo recording, sd_notify.</summary>
[Trait("needs", "broker")]
[Trait("needs", "native")]
public sealed class HubServiceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Run_once_on_the_demo_recording_publishes_every_command_and_tells_systemd_it_is_ready()
    {
        using var broker = TestBroker.Start();
        using var devices = new TestDevice(broker.Port, "zigbee2mqtt/#", clientId: "demo-devices");
        devices.Subscribed.Wait(TimeSpan.FromSeconds(10));
        var config = _dir.File("config.yaml");
        // An LED ring and a room sensor are configured but absent here (no SPI or I2C bus 9): the hub runs on without them.
        await File.WriteAllTextAsync(config, $"mqtt:\n  host: 127.0.0.1\n  port: {broker.Port}\nhub:\n  stateDirectory: {_dir.Path}/state\n  devices: {Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml")}\n  debugRecording:\n    utterances: 10\ngpio:\n  ledRing:\n    spiBus: 9\n  roomSensor:\n    i2cBus: 9\n");
        var notify = _dir.File("notify");
        using var systemd = SystemdTests.NotifySocket(notify);
        var traces = new List<UtteranceTrace>();
        var settings = new RunSettings { Input = TestPaths.Fixture("demo.wav"), Once = true, Fast = true, Report = traces.Add };

        using (var host = RunCommand.Build(config, settings, services => services.AddSingleton(new SystemdNotifier(notify, watchdogMicroseconds: "2000000"))))
        {
            await host.RunAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }

        Assert.Equal(["HassTurnOn", "HassClimateSetTemperature", "HassTurnOn", "HassTurnOn"], traces.Select(t => t.Result?.Intent));
        var published = devices.WaitFor(r => r.Count >= 3).Select(r => $"{r.Topic} {r.Payload}").ToList();
        Assert.Contains("zigbee2mqtt/Kitchen light/set {\"state\":\"ON\"}", published);
        Assert.Contains("zigbee2mqtt/Thermostat/set/current_heating_setpoint 21", published);
        Assert.Contains(published, p => p.StartsWith("zigbee2mqtt/Garage door/set ", StringComparison.Ordinal));
        // Watchdog pings (and, on a busy machine, the watchdog's status while starting) may come first while a slow start builds its models; READY follows them.
        var notice = SystemdTests.Receive(systemd);
        while (notice == "WATCHDOG=1" || notice.StartsWith("STATUS=starting", StringComparison.Ordinal))
        {
            notice = SystemdTests.Receive(systemd);
        }

        Assert.StartsWith("READY=1\nSTATUS=listening on ", notice, StringComparison.Ordinal);
        Assert.Matches("^\\[[0-9.]+ s\\] heard \".+\" -> HassTurnOn -> light.kitchen_light via mqtt: done; said ", RunCommand.Describe(traces[0]));
        // hub.debugRecording: every utterance kept as a WAV beside its trace.
        var recordings = Directory.GetFiles(Path.Combine(_dir.Path, "state", "debug-recordings"));
        Assert.Equal(traces.Count, recordings.Count(f => f.EndsWith(".wav", StringComparison.Ordinal)));
        Assert.Equal(traces.Count, recordings.Count(f => f.EndsWith(".json", StringComparison.Ordinal)));
        Assert.Contains(recordings, f => f.EndsWith("-HassClimateSetTemperature.wav", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_wake_model_that_cannot_be_used_is_logged_and_the_hub_listens_for_its_phrase_instead(bool configured)
    {
        using var broker = TestBroker.Start();
        // Configured as wake.model, or learned earlier through Home Assistant and kept in the state directory.
        var broken = configured ? _dir.File("kitchen.wake") : HubWakeEnrollment.ModelPath($"{_dir.Path}/state", "computer");
        Directory.CreateDirectory(Path.GetDirectoryName(broken)!);
        await File.WriteAllTextAsync(broken, "{\"format\": \"voicehub-wake\", \"version\": 1");
        var config = _dir.File("config.yaml");
        await File.WriteAllTextAsync(config, $"mqtt:\n  host: 127.0.0.1\n  port: {broker.Port}\nhub:\n  stateDirectory: {_dir.Path}/state\n  devices: {Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml")}\n"
            + (configured ? $"wake:\n  model: {broken}\n" : string.Empty));
        var log = new RecordingLogger();
        var traces = new List<UtteranceTrace>();
        var settings = new RunSettings { Input = TestPaths.Fixture("demo.wav"), Once = true, Fast = true, Report = traces.Add };

        using (var host = RunCommand.Build(config, settings, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(new RecordingLoggerProvider(log))))
        {
            await host.RunAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }

        Assert.Contains(log.All, line => line.StartsWith($"Wake model not used, listening for the wake phrase instead: {broken}: not a wake model", StringComparison.Ordinal));
        Assert.Equal(!configured, log.All.Any(line => line.Contains("with the model learned from its users", StringComparison.Ordinal)));
        Assert.Equal(["HassTurnOn", "HassClimateSetTemperature", "HassTurnOn", "HassTurnOn"], traces.Select(t => t.Result?.Intent));
    }

    [Fact]
    public async Task Without_the_neural_stage_s_models_the_hub_listens_with_the_keyword_spotter()
    {
        using var broker = TestBroker.Start();
        var config = _dir.File("config.yaml");
        await File.WriteAllTextAsync(config, $"mqtt:\n  host: 127.0.0.1\n  port: {broker.Port}\nhub:\n  stateDirectory: {_dir.Path}/state\n  devices: {Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml")}\nwake:\n  featureModelDirectory: {_dir.File("no-wake-models")}\n");
        var log = new RecordingLogger();
        var traces = new List<UtteranceTrace>();
        var settings = new RunSettings { Input = TestPaths.Fixture("demo.wav"), Once = true, Fast = true, Report = traces.Add };

        using (var host = RunCommand.Build(config, settings, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(new RecordingLoggerProvider(log))))
        {
            await host.RunAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }

        Assert.Contains(log.All, line => line.StartsWith("Neural wake stage not available, listening with the keyword spotter: ", StringComparison.Ordinal) && line.Contains("no-wake-models", StringComparison.Ordinal));
        Assert.Equal(["HassTurnOn", "HassClimateSetTemperature", "HassTurnOn", "HassTurnOn"], traces.Select(t => t.Result?.Intent));
    }

    [Fact]
    public async Task Run_with_a_misspelt_setting_exits_2_with_one_line_naming_it()
    {
        var config = _dir.File("config.yaml");
        await File.WriteAllTextAsync(config, "pipeline:\n  folowUp: 5s\n");

        var (code, _, error) = await VoiceHub.Tests.Cli.CliTests.Run("run", "--config", config, "--input", TestPaths.Fixture("demo.wav"), "--once", "--fast");

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("folowUp", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_shipped_default_config_binds_and_validates_every_section()
    {
        using var configuration = AppConfiguration.Load(Path.Combine(TestPaths.Root, "systemd", "config.yaml"));

        configuration.ValidateAll();
        Assert.Equal(0.8, Assert.Single(configuration.Get<VoiceHub.Core.Wake.WakeOptions>().Phrases).Sensitivity);
        Assert.Equal("/var/lib/voicehub/models", configuration.Get<VoiceHub.Core.Models.ModelsOptions>().Directory);
    }

    [Fact]
    public async Task Run_exits_non_zero_with_one_line_when_the_hub_cannot_start()
    {
        var config = _dir.File("config.yaml");
        await File.WriteAllTextAsync(config, $"hub:\n  intents: {_dir.File("no-such-intents.yaml")}\n  stateDirectory: {_dir.Path}/state\nmqtt:\n  startPrivateBroker: false\n");

        var (code, _, error) = await VoiceHub.Tests.Cli.CliTests.Run("run", "--config", config, "--input", TestPaths.Fixture("demo.wav"), "--once", "--fast");

        Assert.Equal(1, code);
        Assert.StartsWith("voicehub run: ", error, StringComparison.Ordinal);
        Assert.Contains("no-such-intents.yaml", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_with_a_missing_input_file_names_it()
    {
        var (code, _, error) = await VoiceHub.Tests.Cli.CliTests.Run("run", "--input", _dir.File("nowhere.wav"), "--once");

        Assert.Equal(2, code);
        Assert.Equal($"voicehub run: {_dir.File("nowhere.wav")}: no such file", error.TrimEnd());
    }

    [Fact]
    public void A_changed_file_is_noticed_once_and_an_unchanged_one_not_at_all()
    {
        var watched = _dir.File("devices.yaml");
        File.WriteAllText(watched, "entities: []\n");
        var changes = 0;
        using var reloader = new FileReloader([watched], TimeSpan.FromHours(1), () => changes++);

        Assert.False(reloader.Check());
        File.WriteAllText(watched, "entities: [ { id: light.x, name: X } ]\n");
        File.SetLastWriteTimeUtc(watched, DateTime.UtcNow.AddSeconds(5));

        Assert.True(reloader.Check());
        Assert.False(reloader.Check());
        Assert.Equal(1, changes);
    }
}
