using VoiceHub.App.Cli;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Cli;

/// <summary>How <c>eval wake</c> counts misses and false alarms from a model's score traces.</summary>
public sealed class WakeSweepTests
{
    private static List<(TimeSpan End, float Score)> Trace(params (double Seconds, float Score)[] points) =>
        [.. points.Select(p => (TimeSpan.FromSeconds(p.Seconds), p.Score))];

    [Fact]
    public void A_positive_is_missed_only_when_no_score_reaches_the_threshold_and_close_crossings_are_one_false_alarm()
    {
        var positives = new List<List<(TimeSpan, float)>> { Trace((1, 0.9f)), Trace((1, 0.3f)) };
        // Two crossings 0.5 s apart (one detection, as the hub's refractory time makes it) and one 3 s later.
        var negatives = new List<List<(TimeSpan, float)>> { Trace((1, 0.7f), (1.5, 0.8f), (4.5, 0.75f)) };

        var rows = WakeEvaluation.SweepModel("clean", positives, negatives, hours: 0.5).ToList();

        var atHalf = rows.Single(r => Math.Abs(r.Threshold - 0.5) < 1e-9);
        Assert.Equal(1, atHalf.Missed);
        Assert.Equal(2, atHalf.FalseAlarms);
        Assert.Equal(4.0, atHalf.FalseAlarmsPerHour, 9);
        var atPoint95 = rows.Single(r => Math.Abs(r.Threshold - 0.95) < 1e-9);
        Assert.Equal(2, atPoint95.Missed);
        Assert.Equal(0, atPoint95.FalseAlarms);
    }

    private static List<(TimeSpan End, double Score)> Candidates(params (double Seconds, double Verify)[] points) =>
        [.. points.Select(p => (TimeSpan.FromSeconds(p.Seconds), p.Verify))];

    [Fact]
    public void The_spotter_curve_counts_every_candidate_unchecked_and_only_those_the_verifier_passes_at_each_threshold()
    {
        // One positive with a candidate the verifier scored 0.5, one without any; two candidates in other speech, far apart.
        var positives = new List<List<(TimeSpan, double)>> { Candidates((1, 0.5)), Candidates() };
        var negatives = new List<List<(TimeSpan, double)>> { Candidates((1, -0.5), (5, 0.8)) };

        var rows = WakeEvaluation.SweepVerified("sensitivity 0.4", 0.4, positives, negatives, hours: 1).ToList();

        var spotterOnly = Assert.Single(rows, r => r.VerifyThreshold is null);
        Assert.Equal((1, 2), (spotterOnly.Missed, spotterOnly.FalseAlarms));
        var atZero = rows.Single(r => r.VerifyThreshold == 0);
        Assert.Equal((1, 1), (atZero.Missed, atZero.FalseAlarms));
        var atOne = rows.Single(r => r.VerifyThreshold == 1);
        Assert.Equal((2, 0), (atOne.Missed, atOne.FalseAlarms));
        Assert.Contains("unverified, sensitivity 0.4: miss 50.0 %, 2 false alarms (2.00/h)", WakeEvaluation.VerifiedSummary(rows, 1), StringComparison.Ordinal);
        Assert.StartsWith("sensitivity 0.4,0.40,off,2,1,0.5000,2,", WakeEvaluation.Csv(rows).Split('\n')[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Fifteen_minutes_without_a_false_alarm_are_reported_as_bounding_the_rate_only_below_twelve_an_hour()
    {
        Assert.Equal("no false alarm in them bounds the rate only below 12/h (95%)", WakeEvaluation.Resolution(0.25));
        Assert.Equal("no false alarm in them bounds the rate only below 0.5/h (95%)", WakeEvaluation.Resolution(6));
    }

    [Fact]
    public void A_candidate_turned_down_leaves_the_next_free_to_wake_and_one_accepted_silences_the_rest_for_the_refractory_time()
    {
        // The phrase's first candidate comes before its end and is turned down; the next, a chunk later, passes.
        var positives = new List<List<(TimeSpan, double)>> { Candidates((1.0, -0.2), (1.08, 0.6)) };
        // Three candidates within a second are one false alarm when the first passes, and one when only the last does.
        var negatives = new List<List<(TimeSpan, double)>> { Candidates((1.0, 0.6), (1.08, 0.7), (1.16, 0.3)), Candidates((1.0, -0.5), (1.08, -0.4), (1.16, 0.6)) };

        var rows = WakeEvaluation.SweepVerified("model threshold 0.5", 0.5, positives, negatives, hours: 1).ToList();

        var atHalf = rows.Single(r => r.VerifyThreshold == 0.5);
        Assert.Equal((0, 2), (atHalf.Missed, atHalf.FalseAlarms));
        var unverified = rows.Single(r => r.VerifyThreshold is null);
        Assert.Equal((0, 2), (unverified.Missed, unverified.FalseAlarms));
        var atOne = rows.Single(r => r.VerifyThreshold == 1);
        Assert.Equal((1, 0), (atOne.Missed, atOne.FalseAlarms));
    }

    [Fact]
    public void The_mistakes_listed_are_the_positives_missed_and_each_false_alarm_as_the_sweep_counts_them()
    {
        var positives = new List<List<(TimeSpan, double)>> { Candidates((1.0, 0.6)), Candidates((1.0, -0.2), (1.08, 0.3)), Candidates() };
        var negatives = new List<List<(TimeSpan, double)>> { Candidates((1.0, 0.6), (1.08, 0.7), (4.0, 0.9)), Candidates((2.0, 0.4)) };

        var lines = WakeEvaluation.Mistakes("10 dB", ["/d/computer/a.wav", "/d/computer/b.wav", "/d/computer/c.wav"], positives, ["/d/jarvis/x.wav", "/d/jarvis/y.wav"], negatives, 0.5).ToList();

        Assert.Equal(
        [
            "  10 dB missed b.wav: 2 candidates, best verify score 0.30",
            "  10 dB missed c.wav: no candidate",
            "  10 dB false alarm in jarvis/x.wav at 1.00 s: verify score 0.60",
            "  10 dB false alarm in jarvis/x.wav at 4.00 s: verify score 0.90",
        ], lines);
    }
}

/// <summary><c>eval wake</c> end to end on the repository's own recordings (no shared data needed).</summary>
[Trait("needs", "native")]
public sealed class EvalWakeCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_model_is_evaluated_clean_into_a_det_table_a_csv_and_a_plot()
    {
        Directory.CreateDirectory(_dir.File("data/computer"));
        Directory.CreateDirectory(_dir.File("data/jarvis"));
        Directory.CreateDirectory(_dir.File("speech/clean"));
        File.Copy(TestPaths.Fixture("wake-computer.wav"), _dir.File("data/computer/a.wav"));
        File.Copy(TestPaths.Fixture("wake-jarvis.wav"), _dir.File("data/jarvis/b.wav"));
        File.Copy(TestPaths.Fixture("coffee-iced-mocha.wav"), _dir.File("speech/clean/c.wav"));
        var model = Path.Combine(TestPaths.Root, "src", "VoiceHub.Core", "Wake", "Neural", "phrases", "computer.wake");

        var (code, output, error) = await CliTests.Run("eval", "wake", "--model", model, "--data", _dir.File("data"), "--negatives", _dir.File("speech/clean"),
            "--snr", "clean", "--output", _dir.File("out"));

        Assert.True(code == 0, error);
        Assert.Contains("\"computer\" with computer.wake: 1 positives, 2 negative files", output, StringComparison.Ordinal);
        Assert.Contains("clean, threshold 0.50 (the model's): miss 0.0 %, 0 false alarms", output, StringComparison.Ordinal);
        var csv = File.ReadAllLines(_dir.File("out/wake-computer-computer.csv"));
        Assert.Equal(100, csv.Length); // the header and thresholds 0.01 to 0.99
        Assert.True(new FileInfo(_dir.File("out/wake-computer-computer.png")).Length > 1000);
    }

    [Fact]
    public async Task Default_settings_are_the_models_own_threshold_as_the_hub_uses_it()
    {
        Directory.CreateDirectory(_dir.File("data/computer"));
        Directory.CreateDirectory(_dir.File("speech/clean"));
        File.Copy(TestPaths.Fixture("wake-computer.wav"), _dir.File("data/computer/a.wav"));
        File.Copy(TestPaths.Fixture("coffee-iced-mocha.wav"), _dir.File("speech/clean/c.wav"));
        // An enrolled model's own threshold is 0.9 (a phrase model's 0.5): the hub listens with it when wake.model names the file.
        var shipped = File.ReadAllText(Path.Combine(TestPaths.Root, "src", "VoiceHub.Core", "Wake", "Neural", "phrases", "computer.wake"));
        var model = _dir.File("enrolled.wake");
        File.WriteAllText(model, shipped.Replace("\"threshold\": 0.5,", "\"threshold\": 0.9,", StringComparison.Ordinal));

        var (code, output, error) = await CliTests.Run("eval", "wake", "--model", model, "--verify", "--verbose", "--data", _dir.File("data"), "--negatives", _dir.File("speech/clean"),
            "--snr", "clean", "--output", _dir.File("out"));

        Assert.True(code == 0, error);
        Assert.Contains("clean, default settings (threshold 0.90, verify threshold 0.5): miss ", output, StringComparison.Ordinal);
    }
}
