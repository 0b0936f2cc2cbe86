using System.Text;
using System.Text.Json;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.HomeAssistant;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Mqtt;
using VoiceHub.Tests.Support;
using static VoiceHub.Tests.Support.DiscoveryPayloads;

namespace VoiceHub.Tests.Actuation;

/// <summary>The hub as a Home Assistant citizen, end to end over a real broker.</summary>
[Trait("needs", "broker")]
public sealed class HomeAssistantBridgeTests : IAsyncLifetime, IDisposable
{
    private readonly TestBroker _broker = TestBroker.Start();
    private readonly SimulatedGpioChip _chip = new();
    private readonly HubStatus _status = new();
    private readonly RecordingLogger _log = new();
    private MqttBus _bus = null!;
    private GpioHub _gpio = null!;
    private HomeAssistantBridge _bridge = null!;

    private static readonly Entity s_pump = new("switch.pump", "Pump", null, [], null, new Dictionary<string, object?>(), Gpio: new GpioBinding("simulated", 6, false));

    public async Task InitializeAsync()
    {
        _bus = new MqttBus(new MqttOptions { Host = "127.0.0.1", Port = _broker.Port, HubId = "kitchen" }, _log);
        var connected = new TaskCompletionSource();
        _bus.Connected += () => connected.TrySetResult();
        _bus.Start();
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _gpio = new GpioHub(new GpioOptions(), _log, _ => _chip);
        _gpio.Start([s_pump], _status);
        _bridge = new HomeAssistantBridge(_bus, _status, "homeassistant", "kitchen", _log, _gpio, new EntityStateStore(_log));
        _bridge.Start([s_pump], ["HassTurnOn", "HassTurnOff", "OrderCoffee"]);
    }

    public async Task DisposeAsync() => await _bus.DisposeAsync();

    public void Dispose()
    {
        _gpio.Dispose();
        _chip.Dispose();
        _broker.Dispose();
    }

    [Fact]
    public void A_room_sensor_is_announced_as_temperature_and_humidity_sensors_and_its_readings_published()
    {
        var bridge = new HomeAssistantBridge(_bus, _status, "homeassistant", "kitchen", _log, _gpio, new EntityStateStore(_log));
        using var ha = new TestDevice(_broker.Port, "voicehub/kitchen/state", clientId: "state-reader", persistentSession: false);
        ha.Subscribed.Wait(TimeSpan.FromSeconds(10));

        bridge.Start([s_pump], ["HassTurnOn"], roomSensor: true);
        _status.SetRoomClimate(new RoomClimate(22.5, 45.0));

        var configs = bridge.DiscoveryConfigs().ToDictionary(c => c.Topic, c => JsonDocument.Parse(c.Payload).RootElement);
        var temperature = configs["homeassistant/sensor/voicehub_kitchen/room_temperature/config"];
        Assert.Equal("temperature", temperature.GetProperty("device_class").GetString());
        Assert.Equal("°C", temperature.GetProperty("unit_of_measurement").GetString());
        Assert.Equal("humidity", configs["homeassistant/sensor/voicehub_kitchen/room_humidity/config"].GetProperty("device_class").GetString());
        var state = ha.WaitFor(r => r.Any(m => m.Payload.Contains("\"room_temperature\":22.5", StringComparison.Ordinal)));
        Assert.Contains(state, m => m.Payload.Contains("\"room_humidity\":45", StringComparison.Ordinal));
        Assert.DoesNotContain(_bridge.DiscoveryConfigs(), c => c.Topic.Contains("room_", StringComparison.Ordinal)); // none without a sensor
    }

    [Fact]
    public void The_hub_announces_itself_with_retained_configs_our_own_parser_reads_back()
    {
        var configs = _bridge.DiscoveryConfigs();
        using (var first = new TestDevice(_broker.Port, "homeassistant/#", clientId: "first-look", persistentSession: false))
        {
            first.WaitFor(r => r.Count >= configs.Count); // the announcements have reached the broker
        }

        // Home Assistant starting later still gets every config: they are retained.
        using var ha = new TestDevice(_broker.Port, "homeassistant/#", clientId: "home-assistant", persistentSession: false);
        var received = ha.WaitFor(r => r.Count >= configs.Count);

        Assert.Equal(configs.Select(c => c.Topic).Order(), received.Select(r => r.Topic).Order());
        Assert.All(received, r => Assert.True(r.Retain));
        var home = new Home(DeviceRegistry.Empty, _log);
        foreach (var (topic, payload, _) in received.Where(r => !r.Topic.Contains("/event/", StringComparison.Ordinal) && !r.Topic.Contains("/button/", StringComparison.Ordinal)))
        {
            Assert.True(home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload)), topic);
        }

        var ids = home.Current.Entities.Select(e => e.Id).ToHashSet();
        Assert.Contains("switch.voicehub_kitchen_mute", ids);
        var button = JsonDocument.Parse(received.Single(r => r.Topic.Contains("/button/", StringComparison.Ordinal)).Payload).RootElement;
        Assert.Equal(_bridge.EnrollWakeCommandTopic, button.GetProperty("command_topic").GetString());
        Assert.Contains("binary_sensor.voicehub_kitchen_throttled", ids);
        Assert.Contains("sensor.voicehub_kitchen_cpu_temperature", ids);
        Assert.Contains("sensor.voicehub_kitchen_latency_stt", ids);
        Assert.Contains("switch.voicehub_kitchen_gpio_switch_pump", ids);
        var eventConfig = JsonDocument.Parse(received.Single(r => r.Topic.Contains("/event/", StringComparison.Ordinal)).Payload).RootElement;
        Assert.Equal(["HassTurnOff", "HassTurnOn", "OrderCoffee"], eventConfig.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("voicehub/kitchen/availability", eventConfig.GetProperty("availability_topic").GetString());
    }

    [Fact]
    public void Home_Assistant_mutes_the_microphone_and_switches_the_GPIO_relay()
    {
        using var ha = new TestDevice(_broker.Port, "voicehub/kitchen/#", clientId: "home-assistant", persistentSession: false);

        ha.Publish(_bridge.MuteCommandTopic, "ON");
        ha.Publish(_bridge.GpioCommandTopic("switch.pump"), "ON");
        ha.Publish(_bridge.GpioCommandTopic("switch.pump"), "BANANA");
        var received = ha.WaitFor(r => r.Any(m => m.Topic == _bridge.MuteStateTopic && m.Payload == "ON") && r.Any(m => m.Topic == _bridge.GpioStateTopic("switch.pump") && m.Payload == "ON"));

        Assert.True(_status.Muted);
        Assert.True(_chip.PhysicalLevel(6));
        Assert.Contains(received, m => m.Topic == _bridge.GpioStateTopic("switch.pump") && m.Payload == "ON");
        Assert.Contains(_log.Warnings, w => w.Contains("'BANANA' is neither ON nor OFF", StringComparison.Ordinal));
    }

    [Fact]
    public void The_learn_wake_word_button_asks_the_hub_to_learn_and_a_wrong_payload_is_logged()
    {
        using var pressed = new SemaphoreSlim(0);
        _bridge.WakeEnrollmentRequested += () => pressed.Release();
        using var ha = new TestDevice(_broker.Port, "voicehub/kitchen/#", clientId: "home-assistant", persistentSession: false);

        ha.Publish(_bridge.EnrollWakeCommandTopic, "PUSH");
        ha.Publish(_bridge.EnrollWakeCommandTopic, "PRESS");

        Assert.True(pressed.Wait(TimeSpan.FromSeconds(10)));
        Assert.Contains(_log.Warnings, w => w.Contains("'PUSH' is not PRESS", StringComparison.Ordinal));
        Assert.False(pressed.Wait(TimeSpan.FromMilliseconds(200))); // pressed once
    }

    [Fact]
    public void Pipeline_state_and_latencies_are_published_as_retained_JSON()
    {
        _status.RecordUtterance("turn on the pump", "HassTurnOn", new Dictionary<string, double> { ["stt"] = 212.34, ["total"] = 260 });
        _status.SetThermal(61.26, throttled: true, "slm-q4_k_m");
        using (var first = new TestDevice(_broker.Port, _bridge.StateTopic, clientId: "first-look", persistentSession: false))
        {
            first.WaitFor(r => r.Any(m => m.Payload.Contains("slm-q4_k_m", StringComparison.Ordinal)));
        }

        using var ha = new TestDevice(_broker.Port, _bridge.StateTopic, clientId: "home-assistant", persistentSession: false);
        var state = ha.WaitFor(r => r.Count > 0).Last();

        var json = JsonDocument.Parse(state.Payload).RootElement;
        Assert.True(state.Retain);
        Assert.Equal("turn on the pump", json.GetProperty("transcript").GetString());
        Assert.Equal(212.3, json.GetProperty("latency_ms").GetProperty("stt").GetDouble());
        Assert.Equal(61.3, json.GetProperty("cpu_temperature").GetDouble());
        Assert.True(json.GetProperty("throttled").GetBoolean());
        Assert.Equal("slm-q4_k_m", json.GetProperty("model_tier").GetString());
    }

    [Fact]
    public async Task A_spoken_command_reaches_a_discovered_zigbee2mqtt_plug_and_is_published_for_automations()
    {
        // zigbee2mqtt announced the plug (retained) before the hub looked.
        using var z2m = new TestDevice(_broker.Port, "zigbee2mqtt/+/set", clientId: "zigbee2mqtt");
        var (topic, payload) = Z2mPlug("0x00158d0004", "Coffee plug", "coffee_plug", area: "Kitchen");
        z2m.Publish(topic, payload, retain: true);
        var home = new Home(DeviceRegistry.Empty, _log);
        var states = new EntityStateStore(_log);
        var discovered = new TaskCompletionSource();
        _bus.MessageReceived += m =>
        {
            if (home.ApplyDiscovery(m.Topic, m.Payload))
            {
                discovered.TrySetResult();
            }

            states.Handle(m.Topic, m.Payload);
        };
        _bus.Subscribe(home.DiscoverySubscription);
        await discovered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (var stateTopic in states.Bind(home.Current))
        {
            _bus.Subscribe(stateTopic);
        }

        using var automation = new TestDevice(_broker.Port, "voicehub/kitchen/+", clientId: "automation", persistentSession: false);
        var recognizer = IntentRecognizer.Create(IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")), home.Current, states: states);
        var actuator = new Actuator(_bus, _gpio, states, _bridge, _log);

        var result = await recognizer.RecognizeAsync("turn on the coffee plug");
        var report = await actuator.ExecuteAsync(result, home.Current);

        Assert.Equal(["switch.coffee_plug"], result.Targets);
        Assert.True(report.AllDone, string.Join("; ", report.Targets));
        Assert.Contains(("zigbee2mqtt/Coffee plug/set", "ON", false), z2m.WaitFor(r => r.Count >= 1));
        var published = automation.WaitFor(r => r.Any(m => m.Topic.EndsWith("/intent", StringComparison.Ordinal)) && r.Any(m => m.Topic.EndsWith("/event", StringComparison.Ordinal)));
        var intent = JsonDocument.Parse(published.First(m => m.Topic == _bridge.IntentTopic).Payload).RootElement;
        Assert.Equal("HassTurnOn", intent.GetProperty("intent").GetString());
        Assert.Equal("switch.coffee_plug", intent.GetProperty("targets")[0].GetString());
        Assert.Equal("ok", intent.GetProperty("status").GetString());
        Assert.Equal("HassTurnOn", JsonDocument.Parse(published.First(m => m.Topic == _bridge.EventTopic).Payload).RootElement.GetProperty("event_type").GetString());
    }

    [Fact]
    public async Task A_custom_intent_is_published_even_though_nothing_is_switched()
    {
        using var automation = new TestDevice(_broker.Port, "voicehub/kitchen/intent", clientId: "automation", persistentSession: false);
        var actuator = new Actuator(_bus, _gpio, new EntityStateStore(_log), _bridge, _log);
        var coffee = new IntentResult { Text = "a large cappuccino", Intent = "OrderCoffee", Status = IntentStatus.Ok, Slots = new Dictionary<string, object> { ["size"] = "large", ["drink"] = "cappuccino" }, Source = "template" };

        var report = await actuator.ExecuteAsync(coffee, DeviceRegistry.Empty);

        Assert.Empty(report.Targets);
        var message = JsonDocument.Parse(automation.WaitFor(r => r.Count >= 1).Single().Payload).RootElement;
        Assert.Equal("OrderCoffee", message.GetProperty("intent").GetString());
        Assert.Equal("cappuccino", message.GetProperty("slots").GetProperty("drink").GetString());
    }
}
