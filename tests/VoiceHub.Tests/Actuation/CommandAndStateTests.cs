using System.Text;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Devices;
using VoiceHub.Core.HomeAssistant;
using VoiceHub.Core.Intents;
using VoiceHub.Tests.Support;
using static VoiceHub.Tests.Support.DiscoveryPayloads;

namespace VoiceHub.Tests.Actuation;

/// <summary>Commands publish what Home Assistant would publish; state topics answer questions.</summary>
public sealed class CommandAndStateTests
{
    private static readonly Lazy<IntentSet> s_intents = new(() => IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")));

    private static DeviceRegistry Discovered(params (string Topic, string Payload)[] configs)
    {
        var home = new Home(DevicesFile.Parse("devices.yaml", "areas: [ { id: garage, name: Garage }, { id: bedroom, name: Bedroom }, { id: office, name: Office } ]\nentities: []"), new RecordingLogger());
        foreach (var (topic, payload) in configs)
        {
            Assert.True(home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload)), topic);
        }

        return home.Current;
    }

    private static IntentResult Result(string intent, string target, params (string Slot, object Value)[] slots) => new()
    {
        Text = "test",
        Intent = intent,
        Status = IntentStatus.Ok,
        Targets = [target],
        Slots = slots.ToDictionary(s => s.Slot, s => s.Value),
    };

    private static List<string> Publish(DeviceRegistry registry, IntentResult result, EntityState? state = null) =>
        [.. MqttCommandBuilder.Build(result, registry.FindEntity(result.Targets[0])!, state).Select(c => $"{c.Topic} {c.Payload}")];

    [Fact]
    public void Json_schema_lights_get_one_JSON_command_with_brightness_on_their_scale()
    {
        var registry = Discovered(Z2mLight("0xa1", "Desk lamp", "desk_lamp"));

        Assert.Equal(["zigbee2mqtt/Desk lamp/set {\"state\":\"ON\"}"], Publish(registry, Result("HassTurnOn", "light.desk_lamp")));
        Assert.Equal(["zigbee2mqtt/Desk lamp/set {\"state\":\"OFF\"}"], Publish(registry, Result("HassTurnOff", "light.desk_lamp")));
        Assert.Equal(["zigbee2mqtt/Desk lamp/set {\"state\":\"ON\",\"brightness\":127}"], Publish(registry, Result("HassLightSet", "light.desk_lamp", ("brightness", 50L))));
        Assert.Equal(["zigbee2mqtt/Desk lamp/set {\"state\":\"ON\",\"color\":{\"r\":255,\"g\":0,\"b\":0}}"], Publish(registry, Result("HassLightSet", "light.desk_lamp", ("color", "red"))));
        Assert.Equal(["zigbee2mqtt/Desk lamp/set {\"state\":\"ON\",\"color_temp\":370}"], Publish(registry, Result("HassLightSet", "light.desk_lamp", ("color", "warm white"))));
    }

    [Fact]
    public void Tasmota_dimmers_get_brightness_on_0_to_100_and_no_extra_ON()
    {
        var registry = Discovered(TasmotaDimmer("A1B2C3", "Bedroom lamp"));

        Assert.Equal(["tasmota_A1B2C3/cmnd/Dimmer 30"], Publish(registry, Result("HassLightSet", "light.bedroom_lamp", ("brightness", 30L))));
        Assert.Equal(["tasmota_A1B2C3/cmnd/POWER ON"], Publish(registry, Result("HassTurnOn", "light.bedroom_lamp")));
        Assert.Equal(["tasmota_A1B2C3/cmnd/POWER OFF"], Publish(registry, Result("HassLightSet", "light.bedroom_lamp", ("brightness", 0L))));
    }

    [Fact]
    public void Toggle_sends_the_opposite_of_the_reported_state()
    {
        var registry = Discovered(Z2mPlug("0xc1", "Coffee plug", "coffee_plug"));
        var on = new EntityState("on", new Dictionary<string, object?>(), DateTimeOffset.UnixEpoch);

        Assert.Equal(["zigbee2mqtt/Coffee plug/set OFF"], Publish(registry, Result("HassToggle", "switch.coffee_plug"), on));
        Assert.Equal(["zigbee2mqtt/Coffee plug/set ON"], Publish(registry, Result("HassToggle", "switch.coffee_plug")));
    }

    [Fact]
    public void Covers_open_close_and_take_positions_through_their_template()
    {
        var registry = Discovered(Z2mCover("0xa2", "Garage door", "garage_door"));

        Assert.Equal(["zigbee2mqtt/Garage door/set OPEN"], Publish(registry, Result("HassOpenCover", "cover.garage_door")));
        Assert.Equal(["zigbee2mqtt/Garage door/set CLOSE"], Publish(registry, Result("HassCloseCover", "cover.garage_door")));
        Assert.Equal(["zigbee2mqtt/Garage door/set { \"position\": 40 }"], Publish(registry, Result("HassSetPosition", "cover.garage_door", ("position", 40L))));
    }

    [Fact]
    public void Thermostats_take_temperatures_and_modes_locks_take_their_payloads()
    {
        var registry = Discovered(Z2mThermostat("0xa3", "Office radiator", "office_radiator"), Z2mLock("0xa4", "Front door", "front_door"));

        Assert.Equal(["zigbee2mqtt/Office radiator/set/current_heating_setpoint 21.5"], Publish(registry, Result("HassClimateSetTemperature", "climate.office_radiator", ("temperature", 21.5))));
        Assert.Equal(["zigbee2mqtt/Office radiator/set/system_mode heat"], Publish(registry, Result("HassTurnOn", "climate.office_radiator")));
        Assert.Equal(["zigbee2mqtt/Office radiator/set/system_mode off"], Publish(registry, Result("HassTurnOff", "climate.office_radiator")));
        Assert.Equal(["zigbee2mqtt/Front door/set LOCK"], Publish(registry, Result("HassTurnOn", "lock.front_door")));
        Assert.Equal(["zigbee2mqtt/Front door/set UNLOCK"], Publish(registry, Result("HassTurnOff", "lock.front_door")));
    }

    [Fact]
    public void What_a_device_cannot_do_is_an_error_naming_it()
    {
        var registry = Discovered(Z2mPlug("0xc1", "Coffee plug", "coffee_plug"), TasmotaRelay("D4E5F6", "Hall light"));

        var error = Assert.Throws<ActuationException>(() => Publish(registry, Result("HassSetPosition", "switch.coffee_plug", ("position", 10L))));
        Assert.Equal("switch.coffee_plug", error.EntityId);
        Assert.Contains("cannot do HassSetPosition", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void State_topics_answer_is_the_garage_door_open()
    {
        var registry = Discovered(Z2mCover("0xa2", "Garage door", "garage_door", area: "Garage"));
        var states = new EntityStateStore(new RecordingLogger());
        states.Bind(registry);
        var recognizer = IntentRecognizer.Create(s_intents.Value, registry, states: states);

        states.Handle("zigbee2mqtt/Garage door", """{"state":"OPEN","position":100,"linkquality":120}"""u8);
        var open = recognizer.RecognizeWithTemplates("is the garage door open", new Dictionary<string, string>())!;
        states.Handle("zigbee2mqtt/Garage door", """{"state":"CLOSE","position":0}"""u8);
        var closed = recognizer.RecognizeWithTemplates("is the garage door open", new Dictionary<string, string>())!;

        Assert.Equal("HassGetState", open.Intent);
        Assert.StartsWith("Yes", open.Response, StringComparison.Ordinal);
        Assert.StartsWith("No", closed.Response, StringComparison.Ordinal);
        Assert.Equal(0.0, states.Find("cover.garage_door")!.Attributes["current_position"]);
    }

    [Fact]
    public void A_zigbee2mqtt_contact_sensor_with_boolean_payloads_reports_open_and_closed()
    {
        var registry = Discovered(Z2mContact("0xa9", "Front door", "front_door"));
        var states = new EntityStateStore(new RecordingLogger());
        states.Bind(registry);

        states.Handle("zigbee2mqtt/Front door", """{"contact":false,"battery":90}"""u8);
        var open = states.Find("binary_sensor.front_door")?.State;
        states.Handle("zigbee2mqtt/Front door", """{"contact":true,"battery":90}"""u8);

        Assert.Equal("on", open); // a door's "on" is open
        Assert.Equal("off", states.Find("binary_sensor.front_door")?.State);
    }

    [Fact]
    public void Thermostat_and_availability_topics_feed_attributes_and_unavailability()
    {
        var registry = Discovered(Z2mThermostat("0xa3", "Office radiator", "office_radiator"), TasmotaDimmer("A1B2C3", "Bedroom lamp"));
        var states = new EntityStateStore(new RecordingLogger());
        Assert.Contains("tasmota_A1B2C3/tele/LWT", states.Bind(registry));

        states.Handle("zigbee2mqtt/Office radiator", """{"local_temperature":19.5,"current_heating_setpoint":21,"system_mode":"heat"}"""u8);
        states.Handle("tasmota_A1B2C3/tele/STATE", """{"POWER":"ON","Dimmer":40}"""u8);
        var lampOn = states.Find("light.bedroom_lamp")!;
        states.Handle("tasmota_A1B2C3/tele/LWT", "Offline"u8);

        var radiator = states.Find("climate.office_radiator")!;
        Assert.Equal("heat", radiator.State);
        Assert.Equal(19.5, radiator.Attributes["current_temperature"]);
        Assert.Equal(21.0, radiator.Attributes["temperature"]);
        Assert.Equal("on", lampOn.State);
        Assert.Equal(40.0, lampOn.Attributes["brightness"]);
        Assert.Equal("unavailable", states.Find("light.bedroom_lamp")!.State);
    }

    [Fact]
    public void Malformed_state_payloads_are_ignored_with_a_warning_and_keep_the_last_state()
    {
        var registry = Discovered(Z2mPlug("0xc1", "Coffee plug", "coffee_plug"));
        var log = new RecordingLogger();
        var states = new EntityStateStore(log);
        states.Bind(registry);

        states.Handle("zigbee2mqtt/Coffee plug", """{"state":"ON"}"""u8);
        states.Handle("zigbee2mqtt/Coffee plug", """{"state":"BANANA"}"""u8);
        states.Handle("zigbee2mqtt/Coffee plug", [0xFF, 0xFE, 0x00]);

        Assert.Equal("on", states.Find("switch.coffee_plug")!.State);
        Assert.Equal(2, log.Warnings.Count);
    }

    [Theory]
    [InlineData("{{ value_json.state }}", """{"state":"ON"}""", "ON")]
    [InlineData("{{value_json.POWER1}}", """{"POWER1":"OFF"}""", "OFF")]
    [InlineData("{{ value_json['a b'].c }}", """{"a b":{"c":3}}""", "3")]
    [InlineData("{{ value_json.t | float | round(1) }}", """{"t":"21.46"}""", "21.5")]
    [InlineData("{{ value_json.missing | default('x') }}", """{"a":1}""", "x")]
    [InlineData("{{ value | upper }}", "on", "ON")]
    [InlineData("{{ value_json.state }}", "not json", "")]
    public void Templates_of_the_supported_subset_render_as_in_Home_Assistant(string template, string payload, string expected) =>
        Assert.Equal(expected, HaTemplate.Render(template, payload));

    [Theory]
    [InlineData("{% if value == 'on' %}ON{% endif %}")]
    [InlineData("{{ value_json.a | tojson }}")]
    [InlineData("{{ value_json.a + 1 }}")]
    public void Templates_outside_the_subset_are_refused_not_guessed(string template) =>
        Assert.Throws<TemplateNotSupportedException>(() => HaTemplate.Render(template, """{"a":1}"""));
}
