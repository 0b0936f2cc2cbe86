using System.Text.Json.Nodes;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Diagnostics;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Pipeline;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>hub.debugRecording: the last utterances as WAVs with their traces, for bug reports.</summary>
public sealed class DebugRecorderTests
{
    private static UtteranceTrace Trace(long number, string? intent) => new(
        number, TimeSpan.FromSeconds(number), TimeSpan.FromSeconds(number + 1), true, intent is null ? null : "turn on the kitchen light", intent is null ? "sounds unlike any command" : null,
        "pocketsphinx", 0, intent is null ? null : new IntentResult { Text = "turn on the kitchen light", Intent = intent, Status = IntentStatus.Ok, Slots = new Dictionary<string, object> { ["name"] = "kitchen light" } },
        null, "OK", new Dictionary<string, double> { ["stt"] = 3.2 }, null);

    [Fact]
    public async Task The_last_utterances_are_kept_as_wavs_beside_their_traces()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock();
        var recorder = new DebugRecorder(new DebugRecordingOptions { Utterances = 2 }, temp.Path, new RecordingLogger(), clock);
        Directory.CreateDirectory(recorder.Directory);
        await File.WriteAllBytesAsync(Path.Combine(recorder.Directory, "the-users-own.wav"), [1, 2, 3]);
        await using (recorder)
        {
            for (var i = 1; i <= 3; i++)
            {
                recorder.Record(Trace(i, i == 2 ? null : IntentNames.TurnOn), new float[16000]);
                clock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        Assert.True(File.Exists(Path.Combine(recorder.Directory, "the-users-own.wav"))); // not its own: never pruned
        var kept = Directory.GetFiles(recorder.Directory).Select(Path.GetFileName).Where(f => f!.StartsWith("2026", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Path.Combine(temp.Path, "debug-recordings"), recorder.Directory);
        Assert.Equal(4, kept.Count); // utterances 2 and 3, each a WAV and its trace
        Assert.EndsWith("-0002-rejected.json", kept[0], StringComparison.Ordinal);
        Assert.EndsWith("-0003-HassTurnOn.wav", kept[3], StringComparison.Ordinal);
        var trace = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(recorder.Directory, kept[2]!)))!;
        Assert.Equal("turn on the kitchen light", (string?)trace["transcript"]);
        Assert.Equal("kitchen light", (string?)trace["slots"]!["name"]);
        Assert.Equal(kept[3], (string?)trace["wav"]);
        Assert.Equal(16000, AudioFile.ReadMono16k(Path.Combine(recorder.Directory, kept[3]!)).Length);
    }

    [Fact]
    public async Task Recordings_stay_within_their_disk_budget_and_nothing_is_kept_when_off()
    {
        using var temp = new TempDirectory();
        var clock = new ManualClock();
        var recorder = new DebugRecorder(new DebugRecordingOptions { Utterances = 100, MaxMegabytes = 1 }, temp.Path, new RecordingLogger(), clock);
        await using (recorder)
        {
            for (var i = 1; i <= 8; i++)
            {
                recorder.Record(Trace(i, IntentNames.TurnOn), new float[16000 * 10]); // 320 kB each
                clock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var files = Directory.GetFiles(recorder.Directory);
        Assert.InRange(files.Sum(f => new FileInfo(f).Length), 1, 1024 * 1024);
        Assert.Contains(files, f => f.EndsWith("-0008-HassTurnOn.wav", StringComparison.Ordinal));

        var off = new DebugRecorder(new DebugRecordingOptions(), temp.Path, new RecordingLogger());
        await using (off)
        {
            off.Record(Trace(9, IntentNames.TurnOn), new float[16000]);
        }

        Assert.False(off.Enabled);
        Assert.DoesNotContain(Directory.GetFiles(recorder.Directory), f => f.Contains("-0009-", StringComparison.Ordinal));
    }
}
