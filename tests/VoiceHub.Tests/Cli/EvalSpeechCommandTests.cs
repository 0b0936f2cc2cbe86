using VoiceHub.Core.Audio;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Cli;

/// <summary><c>eval speech</c> end to end on the repository's own recordings (no shared data needed).</summary>
[Trait("needs", "native")]
public sealed class EvalSpeechCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_labelled_order_is_scored_and_recordings_noise_and_tones_meant_as_no_command_are_counted_when_taken_for_one()
    {
        Directory.CreateDirectory(_dir.File("set/clean"));
        Directory.CreateDirectory(_dir.File("set/noise"));
        Directory.CreateDirectory(_dir.File("other/jarvis"));
        File.Copy(TestPaths.Fixture("coffee-iced-mocha.wav"), _dir.File("set/clean/order.wav"));
        File.WriteAllText(_dir.File("set/labels.json"), """
            { "order.wav": { "intent": "orderDrink", "slots": { "coffeeDrink": "iced mocha", "roast": "light roast", "sugarAmount": "some sugar" } } }
            """);
        var random = new Random(5);
        WavWriter.Write(_dir.File("set/noise/kitchen.wav"), [.. Enumerable.Range(0, 7 * AudioFile.SampleRate).Select(_ => (float)(random.NextDouble() - 0.5) * 0.05f)]);
        File.Copy(TestPaths.Fixture("wake-jarvis.wav"), _dir.File("other/jarvis/a.wav"));
        File.Copy(TestPaths.Fixture("not-a-command.wav"), _dir.File("other/b.wav"));
        File.Copy(TestPaths.Fixture("coffee-iced-mocha.wav"), _dir.File("other/c.wav")); // an order where none belongs: it must be counted

        var (code, output, error) = await CliTests.Run("eval", "speech", "--data", _dir.File("set"), "--snr", "clean,12", "--negatives", _dir.File("other"), "--workers", "1", "--verbose");

        Assert.True(code == 0, error);
        Assert.Matches(@"clean\s+1\s+1\s+100\.0%", output);
        // Three recordings, two 3 s stretches of the 7 s noise, four tones: only the order is taken for one.
        Assert.Contains("no command, taken for one: 1 of 9 (speech 1/3, noise 0/2, tone 0/4)", output, StringComparison.Ordinal);
        Assert.Contains("speech c.wav: heard \"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_rejection_sweep_counts_an_order_only_up_to_its_own_score_and_never_more_at_a_stricter_threshold()
    {
        Directory.CreateDirectory(_dir.File("set/clean"));
        Directory.CreateDirectory(_dir.File("set/noise"));
        Directory.CreateDirectory(_dir.File("other"));
        // espeak-ng, slowly: an order that scores within the sweep (a person's clean order scores above it).
        var order = SpokenAudio.Say("can i get a light roast iced mocha with some sugar", wordsPerMinute: 100);
        WavWriter.Write(_dir.File("set/clean/order.wav"), order);
        File.WriteAllText(_dir.File("set/labels.json"), """
            { "order.wav": { "intent": "orderDrink", "slots": { "coffeeDrink": "iced mocha", "roast": "light roast", "sugarAmount": "some sugar" } } }
            """);
        WavWriter.Write(_dir.File("set/noise/kitchen.wav"), new float[4 * AudioFile.SampleRate]);
        WavWriter.Write(_dir.File("other/order.wav"), order); // taken for an order at every threshold its score allows

        var (code, output, error) = await CliTests.Run("eval", "speech", "--data", _dir.File("set"), "--snr", "clean", "--negatives", _dir.File("other"), "--workers", "1", "--rejection-sweep", "--verbose");

        Assert.True(code == 0, error);
        var score = double.Parse(System.Text.RegularExpressions.Regex.Match(output, @"score (-?\d+\.\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var rows = output.Split('\n').SkipWhile(l => !l.StartsWith("rejection sweep", StringComparison.Ordinal)).Skip(2).TakeWhile(l => l.Length > 0)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(21, rows.Count);
        Assert.InRange(score, -2, 0); // so that the table shows the order both kept and rejected
        foreach (var row in rows)
        {
            var threshold = double.Parse(row[0], System.Globalization.CultureInfo.InvariantCulture);
            if (Math.Abs(score - threshold) < 0.01)
            {
                continue; // the score is printed to two decimals: at the threshold itself either way is right
            }

            var kept = score > threshold;
            Assert.True((kept ? "100.0%" : "0.0%") == row[1], output);
            Assert.Equal(kept ? "1/0/0" : "0/0/0", row[3]); // the order among the negatives, the silent noise, the tones
        }
    }

    [Fact]
    public async Task Streamed_as_the_hub_decodes_the_order_is_scored_too_and_what_was_heard_is_written_out()
    {
        Directory.CreateDirectory(_dir.File("set/clean"));
        Directory.CreateDirectory(_dir.File("set/noise"));
        File.Copy(TestPaths.Fixture("coffee-iced-mocha.wav"), _dir.File("set/clean/order.wav"));
        File.WriteAllText(_dir.File("set/labels.json"), """
            { "order.wav": { "intent": "orderDrink", "slots": { "coffeeDrink": "iced mocha", "roast": "light roast", "sugarAmount": "some sugar" } } }
            """);
        WavWriter.Write(_dir.File("set/noise/kitchen.wav"), new float[AudioFile.SampleRate]);

        var (code, output, error) = await CliTests.Run("eval", "speech", "--data", _dir.File("set"), "--snr", "clean", "--negatives", "none", "--workers", "1", "--stream", "--heard", _dir.File("heard.tsv"));

        Assert.True(code == 0, error);
        Assert.Contains("engine pocketsphinx (streamed in 20 ms blocks), at least 250 ms of voice: 1 utterances", output, StringComparison.Ordinal);
        Assert.Matches(@"clean\s+1\s+1\s+100\.0%", output);
        var rows = File.ReadAllLines(_dir.File("heard.tsv"));
        Assert.Equal("engine\tcondition\tfile\taccepted\theard", rows[0]);
        Assert.Matches(@"^pocketsphinx\tclean\torder\.wav\tyes\t.*iced mocha", rows[1]);
        Assert.Equal(2, rows.Length);
    }
}
