namespace VoiceHub.Tests.Support;

/// <summary>
/// Discovery configs shaped like those zigbee2mqtt (1.3x, full key names, JSON-schema lights,
/// value_json templates) and Tasmota (abbreviated keys, the '~' base topic) publish.
/// </summary>
public static class DiscoveryPayloads
{
    public const string Z2mBridge = "zigbee2mqtt_bridge_0x00124b0022a1b2c3";

    public static string Z2mDevice(string ieee, string name, string model, string? area = null) =>
        $$$"""{"identifiers":["zigbee2mqtt_{{{ieee}}}"],"manufacturer":"IKEA","model":"{{{model}}}","name":"{{{name}}}","sw_version":"2.3.095","via_device":"{{{Z2mBridge}}}"{{{SuggestedArea(area)}}}}""";

    private static string SuggestedArea(string? area) => area is null ? string.Empty : $",\"suggested_area\":\"{area}\"";

    public static string Z2mAvailability => """[{"topic":"zigbee2mqtt/bridge/state","value_template":"{{ value_json.state }}"}]""";

    public static (string Topic, string Payload) Z2mLight(string ieee, string name, string objectId, string? area = null) => (
        $"homeassistant/light/{ieee}/light/config",
        $$$"""{"availability":{{{Z2mAvailability}}},"brightness":true,"brightness_scale":254,"color_mode":true,"command_topic":"zigbee2mqtt/{{{name}}}/set","device":{{{Z2mDevice(ieee, name, "TRADFRI bulb E27 WS opal 1000lm (LED1732G11)", area)}}},"json_attributes_topic":"zigbee2mqtt/{{{name}}}","name":null,"object_id":"{{{objectId}}}","origin":{"name":"Zigbee2MQTT","sw":"1.35.1","url":"https://www.zigbee2mqtt.io"},"schema":"json","state_topic":"zigbee2mqtt/{{{name}}}","supported_color_modes":["xy","color_temp"],"unique_id":"{{{ieee}}}_light_zigbee2mqtt"}""");

    public static (string Topic, string Payload) Z2mPlug(string ieee, string name, string objectId, string? area = null) => (
        $"homeassistant/switch/{ieee}/switch/config",
        $$$"""{"availability":{{{Z2mAvailability}}},"command_topic":"zigbee2mqtt/{{{name}}}/set","device":{{{Z2mDevice(ieee, name, "TRADFRI control outlet (E1603/E1702/E1708)", area)}}},"name":null,"object_id":"{{{objectId}}}","payload_off":"OFF","payload_on":"ON","state_topic":"zigbee2mqtt/{{{name}}}","unique_id":"{{{ieee}}}_switch_zigbee2mqtt","value_template":"{{ value_json.state }}"}""");

    public static (string Topic, string Payload) Z2mCover(string ieee, string name, string objectId, string? area = null) => (
        $"homeassistant/cover/{ieee}/cover/config",
        $$$"""{"availability":{{{Z2mAvailability}}},"command_topic":"zigbee2mqtt/{{{name}}}/set","device":{{{Z2mDevice(ieee, name, "Garage door opener", area)}}},"device_class":"garage","name":null,"object_id":"{{{objectId}}}","position_template":"{{ value_json.position }}","position_topic":"zigbee2mqtt/{{{name}}}","set_position_template":"{ \"position\": {{ position }} }","set_position_topic":"zigbee2mqtt/{{{name}}}/set","state_topic":"zigbee2mqtt/{{{name}}}","state_open":"OPEN","state_closed":"CLOSE","state_stopped":"STOP","unique_id":"{{{ieee}}}_cover_zigbee2mqtt","value_template":"{{ value_json.state }}"}""");

    public static (string Topic, string Payload) Z2mThermostat(string ieee, string name, string objectId, string? area = null) => (
        $"homeassistant/climate/{ieee}/climate/config",
        $$$"""{"availability":{{{Z2mAvailability}}},"current_temperature_template":"{{ value_json.local_temperature }}","current_temperature_topic":"zigbee2mqtt/{{{name}}}","device":{{{Z2mDevice(ieee, name, "Thermostatic radiator valve", area)}}},"max_temp":"30","min_temp":"5","mode_command_topic":"zigbee2mqtt/{{{name}}}/set/system_mode","mode_state_template":"{{ value_json.system_mode }}","mode_state_topic":"zigbee2mqtt/{{{name}}}","modes":["off","heat","auto"],"name":null,"object_id":"{{{objectId}}}","temp_step":0.5,"temperature_command_topic":"zigbee2mqtt/{{{name}}}/set/current_heating_setpoint","temperature_state_template":"{{ value_json.current_heating_setpoint }}","temperature_state_topic":"zigbee2mqtt/{{{name}}}","temperature_unit":"C","unique_id":"{{{ieee}}}_climate_zigbee2mqtt"}""");

    /// <summary>zigbee2mqtt's door contact: JSON booleans as payloads (the contact is false while the door is open).</summary>
    public static (string Topic, string Payload) Z2mContact(string ieee, string name, string objectId, string? area = null) => (
        $"homeassistant/binary_sensor/{ieee}/contact/config",
        $$$"""{"availability":{{{Z2mAvailability}}},"device":{{{Z2mDevice(ieee, name, "Door sensor", area)}}},"device_class":"door","name":null,"object_id":"{{{objectId}}}","payload_off":true,"payload_on":false,"state_topic":"zigbee2mqtt/{{{name}}}","unique_id":"{{{ieee}}}_contact_zigbee2mqtt","value_template":"{{ value_json.contact }}"}""");

    public static (string Topic, string Payload) Z2mLock(string ieee, string name, string objectId, string? area = null) => (
        $"homeassistant/lock/{ieee}/lock/config",
        $$$"""{"availability":{{{Z2mAvailability}}},"command_topic":"zigbee2mqtt/{{{name}}}/set","device":{{{Z2mDevice(ieee, name, "Smart lock", area)}}},"name":null,"object_id":"{{{objectId}}}","payload_lock":"LOCK","payload_unlock":"UNLOCK","state_locked":"LOCK","state_topic":"zigbee2mqtt/{{{name}}}","state_unlocked":"UNLOCK","unique_id":"{{{ieee}}}_lock_zigbee2mqtt","value_template":"{{ value_json.state }}"}""");

    /// <summary>Tasmota's discovery for a dimmer: abbreviated keys, '~' base topic, brightness 0..100 without an ON after it.</summary>
    public static (string Topic, string Payload) TasmotaDimmer(string mac, string name) => (
        $"homeassistant/light/{mac}_LI_1/config",
        $$$"""{"name":"{{{name}}}","cmd_t":"~cmnd/POWER","stat_t":"~tele/STATE","val_tpl":"{{value_json.POWER}}","pl_off":"OFF","pl_on":"ON","avty_t":"~tele/LWT","pl_avail":"Online","pl_not_avail":"Offline","uniq_id":"{{{mac}}}_LI_1","dev":{"ids":["{{{mac}}}"],"name":"{{{name}}}","mdl":"Sonoff D1","sw":"9.1.0","mf":"Tasmota"},"~":"tasmota_{{{mac}}}/","bri_cmd_t":"~cmnd/Dimmer","bri_stat_t":"~tele/STATE","bri_scl":100,"on_cmd_type":"brightness","bri_val_tpl":"{{value_json.Dimmer}}"}""");

    /// <summary>Tasmota's discovery for relay 1 of a multi-relay board: state from the RESULT topic.</summary>
    public static (string Topic, string Payload) TasmotaRelay(string mac, string name) => (
        $"homeassistant/switch/{mac}_RL_1/config",
        $$$"""{"name":"{{{name}}}","cmd_t":"~cmnd/POWER1","stat_t":"~stat/RESULT","val_tpl":"{{value_json.POWER1}}","pl_off":"OFF","pl_on":"ON","avty_t":"~tele/LWT","pl_avail":"Online","pl_not_avail":"Offline","uniq_id":"{{{mac}}}_RL_1","dev":{"ids":["{{{mac}}}"],"name":"Hall board","mdl":"Sonoff 4CH","sw":"9.1.0","mf":"Tasmota"},"~":"tasmota_{{{mac}}}/"}""");
}
