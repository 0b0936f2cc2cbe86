using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;

namespace VoiceHub.Tests.Intents;

/// <summary>Broken intents and devices files are rejected with the file, the line and the problem.</summary>
public sealed class ConfigurationFileTests
{
    [Theory]
    [InlineData("intents:\n  HassTurnOn:\n    data:\n      - sentences:\n          - \"turn on (the {name}\"\n", "test.yaml: line 5: missing ')'")]
    [InlineData("intents:\n  HassTurnOn:\n    data:\n      - sentences: [\"turn on {gadget}\"]\n", "test.yaml: line 4: {gadget} names a list that is not defined")]
    [InlineData("intents:\n  HassTurnOn:\n    data:\n      - sentences: [\"<go> on\"]\n", "test.yaml: line 4: <go> names an expansion rule that is not defined")]
    [InlineData("expansion_rules:\n  a: \"x <a>\"\nintents:\n  I:\n    data:\n      - sentences: [\"<a>\"]\n", "expansion rule <a> refers to itself")]
    [InlineData("intents:\n  HassTurnOn:\n    data:\n      - sentences: [\"x\"]\n        slotz: { domain: light }\n", "test.yaml: line 5: unknown key 'slotz'")]
    [InlineData("intents:\n  HassTurnOn:\n    data:\n      - sentences: [\"x\"\n", "test.yaml: line 5")]
    [InlineData("intents:\n  HassTurnOn:\n  data: []\n", "test.yaml: line 2: an intent must be a mapping")]
    [InlineData("lists:\n  name: { values: [a] }\nintents:\n  I:\n    data:\n      - sentences: [\"x\"]\n", "list 'name' comes from the devices file")]
    [InlineData("lists:\n  b: { range: { from: 10, to: 1 } }\nintents:\n  I:\n    data:\n      - sentences: [\"x\"]\n", "test.yaml: line 2: range of list 'b' is empty")]
    public void Intents_file_errors_name_the_file_the_line_and_the_problem(string yaml, string message)
    {
        var error = Assert.Throws<ConfigurationFileException>(() => IntentSet.Parse("test.yaml", yaml));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void The_same_list_defined_in_two_files_is_an_error_naming_both()
    {
        var error = Assert.Throws<ConfigurationFileException>(() => IntentSet.Parse([
            ("a.yaml", "lists:\n  c: { values: [x] }\nintents:\n  I:\n    data:\n      - sentences: [\"{c}\"]\n"),
            ("b.yaml", "lists:\n  c: { values: [y] }\n"),
        ]));

        Assert.Contains("b.yaml: line 2: list 'c' is defined twice (also at a.yaml: line 2)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("entities:\n  - { id: light.a, name: A }\n  - { id: light.a, name: B }\n", "devices.yaml: line 3: entity 'light.a' is listed twice (first at line 2)")]
    [InlineData("areas:\n  - { id: kitchen }\nentities:\n  - { id: light.a, name: A, area: kitchn }\n", "devices.yaml: line 4: entity 'light.a' is in area 'kitchn', which is not among the areas (kitchen)")]
    [InlineData("floors: []\nareas:\n  - { id: attic, floor: third }\n", "devices.yaml: line 3: area 'attic' is on floor 'third', which is not among the floors ()")]
    [InlineData("entities:\n  - { id: kitchen_light, name: A }\n", "devices.yaml: line 2: entity id 'kitchen_light' is not <domain>.<object_id>")]
    [InlineData("entities:\n  - { name: A }\n", "devices.yaml: line 2: an entity has no 'id'")]
    [InlineData("entities:\n  - { id: light.a, name: \"!!!\" }\n", "has a name with no words in it")]
    [InlineData("entities:\n  - { id: light.a, gpio: { line: seventeen } }\n", "gpio line 'seventeen' is not a line number")]
    [InlineData("entitys: []\n", "devices.yaml: line 1: unknown section 'entitys'")]
    [InlineData("areas:\n  - { id: a }\n  - { id: a }\n", "area 'a' is listed twice")]
    public void Devices_file_errors_name_the_file_the_line_and_the_problem(string yaml, string message)
    {
        var error = Assert.Throws<ConfigurationFileException>(() => DevicesFile.Parse("devices.yaml", yaml));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_good_devices_file_builds_the_registry_with_bindings()
    {
        var registry = DevicesFile.Parse("devices.yaml", """
            floors: [ { id: ground, name: Ground Floor, aliases: [downstairs] } ]
            areas: [ { id: kitchen_id, name: Kitchen, floor: ground } ]
            entities:
              - id: light.kitchen_ceiling
                name: Kitchen ceiling
                area: kitchen_id
                aliases: [big light]
                state: "on"
                attributes: { device_class: null, supported_color_modes: [brightness] }
                mqtt: { command_topic: zigbee2mqtt/kitchen_ceiling/set, schema: json }
                gpio: { chip: gpiochip0, line: 17, active_low: true }
            """);

        var entity = Assert.Single(registry.Entities);
        Assert.Equal("light", entity.Domain);
        Assert.Equal("Kitchen", registry.AreaOf(entity)!.Name);
        Assert.Equal("Ground Floor", registry.FloorOf(registry.AreaOf(entity)!)!.Name);
        Assert.Equal("zigbee2mqtt/kitchen_ceiling/set", entity.Mqtt!.Get("command_topic"));
        Assert.Equal(new GpioBinding("gpiochip0", 17, true), entity.Gpio);
        Assert.Equal(["big light"], entity.Aliases);
    }
}
