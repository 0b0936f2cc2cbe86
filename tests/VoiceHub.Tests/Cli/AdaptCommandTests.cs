using VoiceHub.App.Cli;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Speech;
using VoiceHub.Native.Pocketsphinx;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Cli;

/// <summary><c>voicehub adapt</c> end to end with Debian's sphinxtrain, on the repository's recordings.</summary>
[Trait("needs", "native")]
public sealed class AdaptCommandTests : IDisposable
{
    private const string ModelDirectory = "/usr/share/pocketsphinx/model/en-us";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Recordings_of_orders_become_a_transform_the_engine_applies_and_speech_that_is_no_order_is_skipped()
    {
        var output = _dir.File("kitchen.mllr");

        var (code, stdout, error) = await CliTests.Run("adapt", "--out", output, "--intents", Path.Combine(TestPaths.Root, "intents", "coffee"),
            "--noise", TestPaths.Fixture("kitchen-noise.wav"), "--snr", "12",
            TestPaths.Fixture("coffee-iced-mocha.wav"), TestPaths.Fixture("coffee-large-cappuccino.wav"), TestPaths.Fixture("not-a-command.wav"));

        Assert.True(code == 0, error);
        Assert.Contains("adapted on 2 recordings (2 noisy copies)", stdout, StringComparison.Ordinal);
        Assert.Contains("not-a-command.wav: skipped: no command heard", error, StringComparison.Ordinal);
        MllrTransform.Check(output, MllrTransform.StreamLengths(Path.Combine(ModelDirectory, "en-us")));

        // Adapted on itself, the order is still the order.
        var coffee = IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "coffee"));
        using var engine = new PocketsphinxCommandEngine(ModelDirectory, new PocketsphinxEngineOptions { AcousticAdaptation = output }, coffee, DeviceRegistry.Empty);
        var transcript = await engine.TranscribeAsync(VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav")));
        Assert.Contains("iced mocha", transcript.Text, StringComparison.Ordinal);
    }

    /// <summary>A home whose one command is what coffee-large-cappuccino.wav says: --record asks for exactly it.</summary>
    private string OneCommandIntents()
    {
        File.WriteAllText(_dir.File("one.yaml"), "language: en\nintents:\n  orderDrink:\n    data:\n      - sentences:\n          - \"can i get a large cappuccino with some soy milk\"\n");
        return _dir.File("one.yaml");
    }

    /// <summary>The sayings one after another with a quiet room between, as a WAV read like a microphone.</summary>
    private string Microphone(int sayings)
    {
        var saying = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("coffee-large-cappuccino.wav"));
        VoiceHub.Core.Audio.WavWriter.Write(_dir.File("microphone.wav"), SpokenAudio.Stream(1.5, [.. Enumerable.Repeat(saying, sayings)]));
        return _dir.File("microphone.wav");
    }

    [Fact]
    public async Task Commands_said_when_asked_for_become_a_transform_and_are_kept_with_their_words_for_text()
    {
        var intents = OneCommandIntents();

        var (code, stdout, error) = await CliTests.Run("adapt", "--out", _dir.File("recorded.mllr"), "--intents", intents, "--record", "3", "--input", Microphone(3), "--keep", _dir.File("kept"));

        Assert.True(code == 0, error);
        Assert.Contains("say \"can i get a large cappuccino with some soy milk\" (3 of 3), then wait", error, StringComparison.Ordinal);
        Assert.Contains("adapted on 3 recordings", stdout, StringComparison.Ordinal);
        MllrTransform.Check(_dir.File("recorded.mllr"), MllrTransform.StreamLengths(Path.Combine(ModelDirectory, "en-us")));
        var kept = Directory.GetFiles(_dir.File("kept"), "*.wav").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(3, kept.Length);
        Assert.All(File.ReadAllLines(Path.Combine(_dir.File("kept"), AdaptCommand.TranscriptsFile)), line => Assert.EndsWith("\tcan i get a large cappuccino with some soy milk", line, StringComparison.Ordinal));

        // What was kept adapts again, with its words.
        (code, stdout, error) = await CliTests.Run(["adapt", "--out", _dir.File("again.mllr"), "--intents", intents, "--text", Path.Combine(_dir.File("kept"), AdaptCommand.TranscriptsFile), .. kept]);
        Assert.True(code == 0, error);
        Assert.Contains("adapted on 3 recordings", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_input_that_ends_before_every_command_was_said_and_no_recordings_at_all_are_each_one_line()
    {
        var (code, stdout, error) = await CliTests.Run("adapt", "--out", _dir.File("out.mllr"), "--intents", OneCommandIntents(), "--record", "3", "--input", Microphone(1));
        Assert.Equal(2, code);
        Assert.EndsWith("voicehub adapt: file:microphone.wav: the input ended after 1 of 3 recordings of a command", error.TrimEnd(), StringComparison.Ordinal);
        Assert.Empty(stdout);
        Assert.False(File.Exists(_dir.File("out.mllr")));

        (code, _, error) = await CliTests.Run("adapt", "--out", _dir.File("out.mllr"));
        Assert.Equal(2, code);
        Assert.Equal("voicehub adapt: no recordings: give WAVs of commands, or --record N to say N commands into the microphone", error.Trim());

        (code, _, error) = await CliTests.Run("adapt", "--out", _dir.File("out.mllr"), "--keep", _dir.File("kept"), TestPaths.Fixture("coffee-iced-mocha.wav"));
        Assert.Equal(2, code);
        Assert.Equal("voicehub adapt: --input and --keep go with --record N (the commands to record)", error.Trim());
    }

    [Fact]
    public async Task Too_little_speech_lined_up_with_its_words_is_refused_instead_of_a_transform_solved_from_nothing()
    {
        var audio = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav"));
        VoiceHub.Core.Audio.WavWriter.Write(_dir.File("short.wav"), audio.AsSpan(0, 6400)); // 0.4 s
        File.WriteAllText(_dir.File("said.tsv"), "short.wav\ta\n");
        var output = _dir.File("out.mllr");

        var (code, _, error) = await CliTests.Run("adapt", "--out", output, "--text", _dir.File("said.tsv"), "--intents", Path.Combine(TestPaths.Root, "intents", "coffee"), _dir.File("short.wav"));

        Assert.Equal(2, code);
        Assert.Contains("of the recordings lined up with their words: too little to adapt on (at least 5 s;", error, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task An_out_file_in_a_missing_folder_a_missing_recording_and_noise_too_short_to_mix_are_each_one_line()
    {
        var (code, _, error) = await CliTests.Run("adapt", "--out", _dir.File("no/such/folder/out.mllr"), TestPaths.Fixture("coffee-iced-mocha.wav"));
        Assert.Equal(2, code);
        Assert.Equal($"voicehub adapt: --out {_dir.File("no/such/folder/out.mllr")}: no folder {_dir.File("no/such/folder")}", error.Trim());

        (code, _, error) = await CliTests.Run("adapt", "--out", _dir.File("out.mllr"), "--intents", Path.Combine(TestPaths.Root, "intents", "coffee"), _dir.File("missing.wav"));
        Assert.Equal(2, code);
        Assert.Equal([$"voicehub adapt: {_dir.File("missing.wav")}: file not found: skipped", "voicehub adapt: no usable recording to adapt on"], error.Trim().Split('\n'));

        (code, _, error) = await CliTests.Run("adapt", "--out", _dir.File("out.mllr"), "--snr", "6", TestPaths.Fixture("coffee-iced-mocha.wav"));
        Assert.Equal(2, code);
        Assert.Equal("voicehub adapt: --snr without --noise: the noise to mix in at those levels is missing", error.Trim());

        VoiceHub.Core.Audio.WavWriter.Write(_dir.File("blip.wav"), new float[100]);
        (code, _, error) = await CliTests.Run("adapt", "--out", _dir.File("out.mllr"), "--intents", Path.Combine(TestPaths.Root, "intents", "coffee"), "--noise", _dir.File("blip.wav"), TestPaths.Fixture("coffee-iced-mocha.wav"));
        Assert.Equal(2, code);
        Assert.Equal($"voicehub adapt: --noise {_dir.File("blip.wav")}: 100 samples, too little noise to mix in (a tenth of a second at least)", error.Trim());
    }

    [Theory]
    [InlineData("coffee-iced-mocha.wav\ta zzyzxq mocha\n")]
    [InlineData("engine\tcondition\tfile\taccepted\theard\npocketsphinx\t12 dB\tcoffee-iced-mocha.wav\tno\ta mocha\npocketsphinx\tclean\tcoffee-iced-mocha.wav\tyes\ta zzyzxq  mocha\n")] // eval speech --heard: its clean rows
    public async Task A_word_without_a_pronunciation_in_the_text_is_one_error_line_naming_the_recording_and_nothing_is_written(string said)
    {
        File.WriteAllText(_dir.File("said.tsv"), said);
        var output = _dir.File("out.mllr");

        var (code, _, error) = await CliTests.Run("adapt", "--out", output, "--text", _dir.File("said.tsv"), "--intents", Path.Combine(TestPaths.Root, "intents", "coffee"),
            TestPaths.Fixture("coffee-iced-mocha.wav"));

        Assert.Equal(2, code);
        Assert.Equal($"voicehub adapt: {TestPaths.Fixture("coffee-iced-mocha.wav")}: 'zzyzxq' is not in the pronunciation dictionary", error.Trim());
        Assert.False(File.Exists(output));
    }
}
