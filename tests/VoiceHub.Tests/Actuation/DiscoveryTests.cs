using System.Text;
using VoiceHub.Core.Devices;
using VoiceHub.Tests.Support;
using static VoiceHub.Tests.Support.DiscoveryPayloads;

namespace VoiceHub.Tests.Actuation;

/// <summary>Home Assistant MQTT discovery as zigbee2mqtt and Tasmota devices publish it, merged with the devices file.</summary>
public sealed class DiscoveryTests
{
    private const string DevicesYaml = """
        floors: [ { id: ground, name: Ground Floor } ]
        areas:
          - { id: kitchen, name: Kitchen, floor: ground }
          - { id: garage, name: Garage, floor: ground }
        entities:
          - id: light.kitchen_ceiling
            name: Kitchen ceiling
            area: kitchen
            aliases: [big light]
          - id: switch.fan_relay
            name: Fan relay
            area: garage
            gpio: { chip: simulated, line: 3 }
        """;

    private static (Home Home, RecordingLogger Log) NewHome()
    {
        var log = new RecordingLogger();
        return (new Home(DevicesFile.Parse("devices.yaml", DevicesYaml), log, maxDiscoveryPayloadBytes: 4096), log);
    }

    private static bool Apply(Home home, (string Topic, string Payload) message) => home.ApplyDiscovery(message.Topic, Encoding.UTF8.GetBytes(message.Payload));

    [Fact]
    public void A_zigbee2mqtt_light_merges_into_the_curated_entity_of_the_same_id()
    {
        var (home, log) = NewHome();

        Assert.True(Apply(home, Z2mLight("0x00158d0001a2b3c4", "Kitchen ceiling", "kitchen_ceiling", area: "Kitchen")));

        var light = home.Current.FindEntity("light.kitchen_ceiling")!;
        Assert.Equal("Kitchen ceiling", light.Name);
        Assert.Equal(["big light"], light.Aliases); // the devices file's aliases survive
        Assert.Equal("kitchen", light.AreaId);
        Assert.Equal("zigbee2mqtt/Kitchen ceiling/set", light.Mqtt!.Get("command_topic"));
        Assert.Equal("json", light.Mqtt.Get("schema"));
        Assert.Equal("254", light.Mqtt.Get("brightness_scale"));
        Assert.Equal("zigbee2mqtt/bridge/state", light.Mqtt.Get("availability_topic"));
        Assert.Empty(log.Warnings);
    }

    [Fact]
    public void A_new_device_becomes_an_entity_named_and_placed_as_Home_Assistant_would()
    {
        var (home, _) = NewHome();

        Apply(home, Z2mCover("0x00158d00aa", "Garage door", "garage_door", area: "Garage"));
        Apply(home, Z2mThermostat("0x00158d00bb", "Office radiator", "office_radiator", area: "Office"));

        var door = home.Current.FindEntity("cover.garage_door")!;
        Assert.Equal("Garage door", door.Name);
        Assert.Equal("garage", door.AreaId);
        Assert.Equal("garage", door.DeviceClass);
        Assert.Equal("mqtt", door.Source);
        var radiator = home.Current.FindEntity("climate.office_radiator")!;
        Assert.Equal("office", radiator.AreaId);
        Assert.Equal("Office", home.Current.FindArea("office")!.Name); // an area Home Assistant would suggest
        Assert.Equal(30, radiator.NumberAttribute("max_temp"));
    }

    [Fact]
    public void Tasmota_abbreviations_and_the_base_topic_are_expanded()
    {
        var (home, log) = NewHome();

        Apply(home, TasmotaDimmer("A1B2C3", "Bedroom lamp"));
        Apply(home, TasmotaRelay("D4E5F6", "Hall light"));

        var lamp = home.Current.FindEntity("light.bedroom_lamp")!;
        Assert.Equal("Bedroom lamp", lamp.Name); // its own name already starts with the device's
        Assert.Equal("tasmota_A1B2C3/cmnd/POWER", lamp.Mqtt!.Get("command_topic"));
        Assert.Equal("tasmota_A1B2C3/cmnd/Dimmer", lamp.Mqtt.Get("brightness_command_topic"));
        Assert.Equal("100", lamp.Mqtt.Get("brightness_scale"));
        Assert.Equal("brightness", lamp.Mqtt.Get("on_command_type"));
        Assert.Equal("Online", lamp.Mqtt.Get("payload_available"));
        var relay = home.Current.FindEntity("switch.hall_board_hall_light")!;
        Assert.Equal("Hall board Hall light", relay.Name);
        Assert.Equal("tasmota_D4E5F6/stat/RESULT", relay.Mqtt!.Get("state_topic"));
        Assert.Empty(log.Warnings);
    }

    [Fact]
    public void Device_discovery_yields_one_entity_per_component()
    {
        var (home, _) = NewHome();
        const string payload = """
            {"dev":{"ids":"ea334450945afc","name":"Porch","sa":"Porch"},"o":{"name":"esp"},"avty_t":"porch/status",
             "cmps":{"lamp":{"p":"light","name":"Lamp","cmd_t":"porch/lamp/set","stat_t":"porch/lamp/state","uniq_id":"p1"},
                     "motion":{"p":"binary_sensor","name":"Motion","stat_t":"porch/motion","dev_cla":"motion","uniq_id":"p2"}}}
            """;

        Assert.True(home.ApplyDiscovery("homeassistant/device/porch/config", Encoding.UTF8.GetBytes(payload)));

        Assert.Equal("Porch Lamp", home.Current.FindEntity("light.porch_lamp")!.Name);
        Assert.Equal("porch/status", home.Current.FindEntity("binary_sensor.porch_motion")!.Mqtt!.Get("availability_topic"));
        Assert.Equal("porch", home.Current.FindEntity("light.porch_lamp")!.AreaId);

        home.ApplyDiscovery("homeassistant/device/porch/config", []);
        Assert.Null(home.Current.FindEntity("light.porch_lamp"));
        Assert.Null(home.Current.FindEntity("binary_sensor.porch_motion"));
    }

    [Fact]
    public void A_device_keeps_its_components_beside_ones_the_hub_ignores_or_one_being_removed()
    {
        var (home, log) = NewHome();
        const string payload = """
            {"dev":{"ids":"plug1","name":"Plug"},
             "cmps":{"relay":{"p":"switch","cmd_t":"plug1/set","stat_t":"plug1/state","uniq_id":"plug1_relay"},
                     "fw":{"p":"update","stat_t":"plug1/fw","uniq_id":"plug1_fw"},
                     "power":{"p":"sensor"}}}
            """;

        Assert.True(home.ApplyDiscovery("homeassistant/device/plug1/config", Encoding.UTF8.GetBytes(payload)));

        Assert.Equal("plug1/set", Assert.Single(home.Current.Entities, e => e.Source == "mqtt").Mqtt!.Get("command_topic"));
        Assert.Empty(log.Warnings);
    }

    [Fact]
    public void A_retained_config_sent_again_unchanged_on_reconnect_changes_nothing()
    {
        var (home, _) = NewHome();
        var changes = 0;
        home.Changed += _ => changes++;
        var config = Z2mCover("0xa2", "Garage door", "garage_door");

        Assert.True(Apply(home, config));
        home.FlushChanges();
        Assert.True(Apply(home, config)); // the broker re-sends it after a reconnect
        home.FlushChanges();
        Assert.True(Apply(home, (config.Topic, config.Payload.Replace("Garage door opener", "Garage door motor", StringComparison.Ordinal))));
        home.FlushChanges();

        Assert.Equal(2, changes); // the first and the changed one
        Assert.NotNull(home.Current.FindEntity("cover.garage_door"));
    }

    [Fact]
    public void An_empty_retained_config_removes_the_entity()
    {
        var (home, _) = NewHome();
        var plug = Z2mPlug("0x00158d00cc", "Coffee plug", "coffee_plug");
        Apply(home, plug);
        Assert.NotNull(home.Current.FindEntity("switch.coffee_plug"));

        Assert.True(home.ApplyDiscovery(plug.Topic, []));

        Assert.Null(home.Current.FindEntity("switch.coffee_plug"));
        Assert.NotNull(home.Current.FindEntity("light.kitchen_ceiling")); // the devices file stays
    }

    public static TheoryData<string, string, string> BadConfigs() => new()
    {
        { "homeassistant/light/bad1/config", "{\"name\": \"Broken\", \"command_topic\": ", "not JSON" },
        { "homeassistant/light/bad2/config", "[1, 2, 3]", "not an object" },
        { "homeassistant/light/bad3/config", "{\"name\":\"Huge\",\"command_topic\":\"x/set\",\"pad\":\"" + new string('x', 5000) + "\"}", "over the 4096-byte limit" },
        { "homeassistant/light/bad+4/config", "{\"name\":\"Wild\",\"command_topic\":\"x/set\"}", "'+' or '#'" },
        { "homeassistant/light/bad5/config", "{\"name\":\"Wild topic\",\"command_topic\":\"lights/#\"}", "not a topic one can publish to" },
        { "homeassistant/teleporter/bad6/config", "{\"name\":\"Beam\",\"command_topic\":\"beam/set\"}", "unknown component 'teleporter'" },
        { "homeassistant/light/bad7/config", "{\"name\":\"No topic\"}", "needs command_topic" },
        { "homeassistant/light/bad8/config", "{\"name\":\"Jinja\",\"schema\":\"template\",\"command_topic\":\"x\"}", "template-schema lights are not supported" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void A_bad_config_is_skipped_with_one_warning_and_nothing_else_changes(string topic, string payload, string reason)
    {
        var (home, log) = NewHome();
        Apply(home, Z2mPlug("0x00158d00cc", "Coffee plug", "coffee_plug"));
        var before = home.Current;

        Assert.False(home.ApplyDiscovery(topic, Encoding.UTF8.GetBytes(payload)));

        var warning = Assert.Single(log.Warnings);
        Assert.Contains(topic, warning, StringComparison.Ordinal);
        Assert.Contains(reason, warning, StringComparison.Ordinal);
        Assert.Same(before, home.Current);
        Apply(home, Z2mCover("0x00158d00aa", "Garage door", "garage_door"));
        Assert.NotNull(home.Current.FindEntity("cover.garage_door")); // and later configs still work
    }

    [Fact]
    public void A_non_UTF8_payload_is_skipped_with_one_warning()
    {
        var (home, log) = NewHome();

        Assert.False(home.ApplyDiscovery("homeassistant/switch/latin1/config", [0x7B, 0x22, 0x6E, 0xE9, 0x22, 0x7D]));

        Assert.Contains("not valid UTF-8", Assert.Single(log.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_config_claiming_the_same_entity_id_is_refused_and_the_first_kept()
    {
        var (home, log) = NewHome();
        Apply(home, Z2mPlug("0x00158d00cc", "Coffee plug", "coffee_plug"));

        var impostor = Z2mPlug("0x00158d00dd", "Other plug", "coffee_plug");
        Assert.False(Apply(home, impostor));

        Assert.Equal("zigbee2mqtt/Coffee plug/set", home.Current.FindEntity("switch.coffee_plug")!.Mqtt!.Get("command_topic"));
        Assert.Contains("already announced by homeassistant/switch/0x00158d00cc/switch/config", Assert.Single(log.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_update_to_a_known_device_keeps_the_working_config()
    {
        var (home, log) = NewHome();
        var plug = Z2mPlug("0x00158d00cc", "Coffee plug", "coffee_plug");
        Apply(home, plug);

        Assert.False(home.ApplyDiscovery(plug.Topic, Encoding.UTF8.GetBytes("{oops")));

        Assert.NotNull(home.Current.FindEntity("switch.coffee_plug")!.Mqtt);
        Assert.Single(log.Warnings);
    }

    [Fact]
    public void Home_Assistant_components_the_hub_has_no_use_for_are_skipped_quietly()
    {
        var (home, log) = NewHome();

        Assert.False(home.ApplyDiscovery("homeassistant/update/0x00158d0001/update/config", "{\"name\":\"Firmware\",\"state_topic\":\"z/u\"}"u8));
        Assert.False(home.ApplyDiscovery("homeassistant/camera/door/config", "{\"name\":\"Door cam\",\"topic\":\"cam/door\"}"u8));

        Assert.Empty(log.Warnings);
    }

    [Fact]
    public void The_hubs_own_announcement_is_not_taken_for_a_device()
    {
        var log = new RecordingLogger();
        var home = new Home(DeviceRegistry.Empty, log, ownNodeId: "voicehub_kitchen");

        Assert.False(home.ApplyDiscovery("homeassistant/switch/voicehub_kitchen/mute/config", "{\"name\":\"Mute\",\"command_topic\":\"voicehub/kitchen/mute/set\"}"u8));

        Assert.Empty(home.Current.Entities);
    }

    [Fact]
    public void Messages_outside_the_discovery_prefix_are_not_configs()
    {
        var (home, log) = NewHome();

        Assert.False(home.ApplyDiscovery("zigbee2mqtt/Kitchen ceiling", "{\"state\":\"ON\"}"u8));
        Assert.False(home.ApplyDiscovery("homeassistant/status", "online"u8));

        Assert.Empty(log.Warnings);
    }
}
