using System.Text;
using System.Text.Json;
using VoiceHub.App.Cli;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Cli;

/// <summary>The contract's parse verb: JSON Lines in input order, and bad lines reported without losing the others.</summary>
public sealed class ParseCommandTests
{
    private static string Fixtures => Path.Combine(TestPaths.Root, "intents", "tests", "en", "_fixtures.yaml");

    [Fact]
    public async Task Json_output_has_the_contract_fields_for_every_line_in_order()
    {
        var (code, output, error) = await Run("turn on the kitchen light\nwhat is the meaning of life\nset the desk lamp to fifty percent\n", "--devices", Fixtures, "--json");

        Assert.Equal(0, code);
        Assert.Empty(error);
        var lines = output.TrimEnd().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        foreach (var line in lines)
        {
            foreach (var field in new[] { "text", "intent", "slots", "targets", "source", "ms" })
            {
                Assert.True(line.TryGetProperty(field, out _), $"missing {field}");
            }
        }

        Assert.Equal("HassTurnOn", lines[0].GetProperty("intent").GetString());
        Assert.Equal("light.kitchen_ceiling", lines[0].GetProperty("targets")[0].GetString());
        Assert.Equal("template", lines[0].GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.Null, lines[1].GetProperty("intent").ValueKind);
        Assert.Equal(JsonValueKind.Null, lines[1].GetProperty("source").ValueKind);
        Assert.Equal(50, lines[2].GetProperty("slots").GetProperty("brightness").GetInt32());
        Assert.Equal(JsonValueKind.Number, lines[2].GetProperty("slots").GetProperty("brightness").ValueKind);
    }

    [Fact]
    public async Task Text_arguments_are_parsed_with_the_speakers_context()
    {
        var (code, output, _) = await Run(string.Empty, "--devices", Fixtures, "--context", "area=Office", "--json", "turn off the lights");

        Assert.Equal(0, code);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(["light.office_ceiling", "light.desk_lamp"], result.GetProperty("targets").EnumerateArray().Select(t => t.GetString()).Order().Reverse());
    }

    [Fact]
    public async Task Bad_lines_get_one_error_line_each_and_the_good_lines_are_still_parsed()
    {
        var input = new MemoryStream();
        input.Write("turn on the kettle\n"u8);
        input.Write([0xC3, 0x28, (byte)'\n']); // not UTF-8
        input.Write(Encoding.UTF8.GetBytes(new string('x', 10 * 1024) + "\n"));
        input.Write("\n"u8);
        input.Write("🎉 turn off the kettle 🎉\n"u8);
        input.Position = 0;

        var (code, output, error) = await Run(input, "--devices", Fixtures, "--json");

        Assert.Equal(2, code);
        var errors = error.TrimEnd().Split('\n');
        Assert.Equal(2, errors.Length);
        Assert.StartsWith("voicehub parse: input 2: line 2 is not valid UTF-8", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("voicehub parse: input 3: input of 10240 characters is longer than a spoken command", errors[1], StringComparison.Ordinal);
        var lines = output.TrimEnd().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(5, lines.Count);
        Assert.Equal("HassTurnOn", lines[0].GetProperty("intent").GetString());
        Assert.Equal(JsonValueKind.Null, lines[1].GetProperty("intent").ValueKind);
        Assert.Equal(JsonValueKind.Null, lines[2].GetProperty("intent").ValueKind);
        Assert.Equal(JsonValueKind.Null, lines[3].GetProperty("intent").ValueKind);
        Assert.Equal("HassTurnOff", lines[4].GetProperty("intent").GetString());
    }

    [Fact]
    public async Task A_broken_intents_file_is_one_line_naming_the_file_and_line()
    {
        using var temp = new TempDirectory();
        var intents = temp.File("bad.yaml");
        await File.WriteAllTextAsync(intents, "intents:\n  HassTurnOn:\n    data:\n      - sentences: [\"turn on {nothing\"]\n");

        var (code, output, error) = await Run(string.Empty, "--intents", intents, "hello");

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Equal($"voicehub parse: {intents}: line 4: missing '}}' after column 9 of \"turn on {{nothing\"", error.TrimEnd());
    }

    private static Task<(int Code, string Output, string Error)> Run(string stdin, params string[] args) =>
        Run(new MemoryStream(Encoding.UTF8.GetBytes(stdin)), args);

    private static async Task<(int Code, string Output, string Error)> Run(Stream stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApplication.RunAsync(["parse", .. args], output, error, stdin);
        return (code, output.ToString(), error.ToString());
    }
}
