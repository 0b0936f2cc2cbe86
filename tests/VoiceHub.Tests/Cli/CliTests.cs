using VoiceHub.App.Cli;

namespace VoiceHub.Tests.Cli;

[Trait("needs", "native")]
public sealed class CliTests
{
    [Fact]
    public async Task Doctor_reports_each_native_engine_with_its_version_and_variant()
    {
        var (code, output, _) = await Run("doctor");

        Assert.Contains(output.Split('\n'), l => l.StartsWith("OK    whisper engine", StringComparison.Ordinal) && l.Contains("Whisper.net 1.9.1", StringComparison.Ordinal));
        Assert.Contains(output.Split('\n'), l => l.StartsWith("OK    llama engine", StringComparison.Ordinal) && l.Contains("LLamaSharp 0.30.0", StringComparison.Ordinal));
        Assert.Contains(output.Split('\n'), l => l.Contains("MQTT broker", StringComparison.Ordinal));
        Assert.Equal(output.Contains("\nFIX ", StringComparison.Ordinal) || output.StartsWith("FIX ", StringComparison.Ordinal) ? 1 : 0, code);
    }

    [Fact]
    public async Task An_unknown_option_is_one_line_on_stderr_and_exit_code_2()
    {
        var (code, output, error) = await Run("doctor", "--no-such-flag");

        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("voicehub doctor:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_file_with_a_misspelt_key_is_rejected_naming_the_key()
    {
        using var temp = new Support.TempDirectory();
        var config = temp.File("config.yaml");
        await File.WriteAllTextAsync(config, "mqtt:\n  hots: broker.local\n");

        var (code, _, error) = await Run("doctor", "--config", config);

        Assert.Equal(2, code);
        Assert.Contains("hots", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task A_config_file_that_is_not_yaml_names_the_file_and_line()
    {
        using var temp = new Support.TempDirectory();
        var config = temp.File("config.yaml");
        await File.WriteAllTextAsync(config, "mqtt:\n  host: [unclosed\n");

        var (code, _, error) = await Run("doctor", "--config", config);

        Assert.Equal(2, code);
        Assert.StartsWith($"voicehub doctor: {config}: line ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("eval", "speech", "--data")]
    [InlineData("eval", "wake", "--data")]
    [InlineData("eval", "echo", "--data")]
    public async Task An_evaluation_pointed_at_a_missing_data_set_is_one_line_naming_the_folder(string verb, string subverb, string option)
    {
        var missing = Path.Combine(Path.GetTempPath(), "voicehub-no-such-set-" + Guid.NewGuid().ToString("N"));

        var (code, _, error) = await Run(verb, subverb, option, missing);

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"voicehub {verb} {subverb}: ", error, StringComparison.Ordinal);
        Assert.Contains(missing, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--rejection-sweep --rejection -1", "--rejection and --rejection-sweep")]
    [InlineData("--min-voice -5", "--min-voice -5: milliseconds, 0 or more")]
    public async Task Contradicting_or_impossible_eval_speech_options_are_one_line_naming_them(string options, string expected)
    {
        var (code, _, error) = await Run(["eval", "speech", .. options.Split(' ')]);

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith($"voicehub eval speech: {expected}", error, StringComparison.Ordinal);
    }

    internal static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApplication.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }
}
