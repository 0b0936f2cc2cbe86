using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Pipeline;

namespace VoiceHub.Core.Diagnostics;

/// <summary>What the hub keeps of what it heard, for bug reports (section <c>hub:debugRecording</c>).</summary>
public sealed class DebugRecordingOptions
{
    /// <summary>Keep the last this many utterances, each as a WAV with its trace (JSON); 0 keeps none.</summary>
    [Range(0, 100000)]
    public int Utterances { get; set; }

    /// <summary>The folder; empty: <c>debug-recordings</c> in the state directory.</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>The oldest recordings go beyond this many megabytes, however few they are, so a recording left on never fills the SD card.</summary>
    [Range(1, 100000)]
    public int MaxMegabytes { get; set; } = 200;
}

/// <summary>
/// Keeps the last utterances the hub heard as 16 kHz WAVs, each beside its trace (what was heard,
/// understood, done and said, and how long each stage took), named by time, number and outcome.
/// The audio loop only hands over a copy; files are written and pruned on the recorder's own task.
/// </summary>
public sealed partial class DebugRecorder : IAsyncDisposable
{
    private readonly DebugRecordingOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Channel<(UtteranceTrace Trace, float[] Audio, DateTimeOffset At)> _queue =
        Channel.CreateBounded<(UtteranceTrace, float[], DateTimeOffset)>(new BoundedChannelOptions(8) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Task _writer;
    private bool _failed;

    public DebugRecorder(DebugRecordingOptions options, string stateDirectory, ILogger logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        Directory = options.Directory.Length > 0 ? options.Directory : Path.Combine(stateDirectory, "debug-recordings");
        _writer = Enabled ? Task.Run(WriteAsync) : Task.CompletedTask;
    }

    public bool Enabled => _options.Utterances > 0;

    public string Directory { get; }

    /// <summary>Queues an utterance to be kept (a copy of its audio); dropped when the disk is far behind.</summary>
    public void Record(UtteranceTrace trace, ReadOnlySpan<float> audio)
    {
        if (Enabled)
        {
            _queue.Writer.TryWrite((trace, audio.ToArray(), _clock.GetUtcNow()));
        }
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }

    private async Task WriteAsync()
    {
        await foreach (var (trace, audio, at) in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                Save(trace, audio, at);
                _failed = false;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A recording is never worth the hub: whatever goes wrong, the next one is tried.
                if (!_failed)
                {
                    LogRecordingFailed(_logger, Directory, e.Message); // once until it works again: the hub runs on
                }

                _failed = true;
            }
        }
    }

    private void Save(UtteranceTrace trace, float[] audio, DateTimeOffset at)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var outcome = trace.Error is not null ? "failed" : trace.Result?.Intent ?? "rejected";
        var name = string.Create(CultureInfo.InvariantCulture, $"{at:yyyyMMdd-HHmmss-fff}-{trace.Number:0000}-{new string([.. outcome.Select(c => char.IsLetterOrDigit(c) ? c : '_')])}");
        WavWriter.Write(Path.Combine(Directory, name + ".wav"), audio);
        File.WriteAllText(Path.Combine(Directory, name + ".json"), Describe(trace, name + ".wav").ToJsonString(new() { WriteIndented = true }));
        Prune();
    }

    /// <summary>The trace as JSON: everything a bug report needs beside the audio.</summary>
    public static JsonObject Describe(UtteranceTrace trace, string wav)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var stages = new JsonObject();
        foreach (var (stage, ms) in trace.StageMilliseconds)
        {
            stages[stage] = Math.Round(ms, 1);
        }

        var slots = new JsonObject();
        foreach (var (slot, value) in trace.Result?.Slots ?? new Dictionary<string, object>())
        {
            slots[slot] = value.ToString();
        }

        return new JsonObject
        {
            ["wav"] = wav,
            ["number"] = trace.Number,
            ["stream_start_s"] = Math.Round(trace.StreamStart.TotalSeconds, 3),
            ["stream_end_s"] = Math.Round(trace.StreamEnd.TotalSeconds, 3),
            ["woken"] = trace.Woken,
            ["engine"] = trace.Engine,
            ["tier"] = trace.Tier,
            ["transcript"] = trace.Transcript,
            ["rejection"] = trace.Rejection,
            ["intent"] = trace.Result?.Intent,
            ["status"] = trace.Result?.Status.ToString().ToLowerInvariant(),
            ["source"] = trace.Result?.Source,
            ["slots"] = slots,
            ["targets"] = new JsonArray([.. (trace.Actuation?.Targets ?? []).Select(t => (JsonNode)new JsonObject
            {
                ["entity_id"] = t.EntityId,
                ["via"] = t.Via,
                ["status"] = t.Status.ToString().ToLowerInvariant(),
                ["problem"] = t.Problem,
            })]),
            ["response"] = trace.Response,
            ["stages_ms"] = stages,
            ["error"] = trace.Error,
        };
    }

    /// <summary>Keeps the newest utterances within both the count and the disk budget (a WAV and its trace go together).</summary>
    private void Prune()
    {
        // Only its own recordings: a configured folder may hold other files.
        var recordings = new DirectoryInfo(Directory).GetFiles("*.wav").Where(f => OwnName().IsMatch(f.Name)).OrderByDescending(f => f.Name, StringComparer.Ordinal).ToList();
        var budget = (long)_options.MaxMegabytes * 1024 * 1024;
        long total = 0;
        for (var i = 0; i < recordings.Count; i++)
        {
            var trace = new FileInfo(Path.ChangeExtension(recordings[i].FullName, ".json"));
            total += recordings[i].Length + (trace.Exists ? trace.Length : 0);
            if (i >= _options.Utterances || (total > budget && i > 0))
            {
                recordings[i].Delete();
                trace.Delete();
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{8}-\d{6}-\d{3}-\d{4,}-\w+\.wav$")]
    private static partial System.Text.RegularExpressions.Regex OwnName();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Debug recording into {Directory} failed: {Problem}")]
    private static partial void LogRecordingFailed(ILogger logger, string directory, string problem);
}
