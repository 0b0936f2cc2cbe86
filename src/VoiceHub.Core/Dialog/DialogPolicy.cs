using System.Globalization;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Core.Pipeline;

namespace VoiceHub.Core.Dialog;

/// <summary>
/// What an utterance means in the conversation, beyond the command it names: stop words, the
/// hub's pending question and its yes or no, the timers and their alarms, and what may be said over
/// the hub's own answer. The pipeline's task owns it; only a finishing timer (on the timer's
/// thread) sets the alarm, under a lock.
/// </summary>
public sealed partial class DialogPolicy : IDisposable
{
    private static readonly HashSet<string> s_yes = new(StringComparer.Ordinal) { "yes", "yes please", "yeah", "yep", "sure", "do it", "go ahead", "confirm", "ok", "okay" };
    private static readonly HashSet<string> s_no = new(StringComparer.Ordinal) { "no", "nope", "no thanks", "don't", "do not", "no don't" };

    private readonly PipelineOptions _options;
    private readonly TimerService _timers;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly HashSet<string> _stopWords;
    private readonly Lock _alarmLock = new();
    private IntentResult? _question;
    private LocalTimer? _alarm;
    private DateTimeOffset _alarmAnnounced;

    public DialogPolicy(PipelineOptions options, TimerService timers, ILogger logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timers);
        _options = options;
        _timers = timers;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _stopWords = (options.StopWords.Count > 0 ? options.StopWords : PipelineOptions.DefaultStopWords).Select(TextNormalizer.Normalize).ToHashSet(StringComparer.Ordinal);
        _timers.Finished += OnTimerFinished;
    }

    /// <summary>The hub asked something ("Do you want me to open the garage door?") and waits for yes or no.</summary>
    public bool QuestionPending => _question is not null;

    /// <summary>A finished timer rings until "stop" (or until nobody seems to be home).</summary>
    public bool AlarmRinging
    {
        get
        {
            lock (_alarmLock)
            {
                return _alarm is not null;
            }
        }
    }

    /// <summary>"turn on the lights" means the lights of the room the hub stands in.</summary>
    public IReadOnlyDictionary<string, string> Context => _options.Area.Length > 0 ? new Dictionary<string, string> { ["area"] = _options.Area } : new Dictionary<string, string>();

    public static bool IsYesOrNo(string normalized) => s_yes.Contains(normalized) || s_no.Contains(normalized);

    public bool IsStopWord(string text) => _stopWords.Contains(TextNormalizer.Normalize(text));

    /// <summary>A question not answered in its window is dropped: a "yes" later must not open the garage door asked about long ago.</summary>
    public void ForgetQuestion() => _question = null;

    /// <summary>How long the hub listens without the wake word after handling <paramref name="result"/>; null: not at all.</summary>
    public TimeSpan? ReplyWindow(IntentResult? result)
    {
        if (QuestionPending || result?.Status == IntentStatus.Clarify)
        {
            return _options.QuestionWindow;
        }

        return _options.FollowUp > TimeSpan.Zero || AlarmRinging ? _options.FollowUp : null;
    }

    /// <summary>
    /// The utterance in the conversation: a stop word ends everything (<paramref name="stopTalking"/>
    /// cuts the answer short and says whether one was playing), yes or no answers the pending question,
    /// anything else is a command, and timer commands act on the hub's own timers.
    /// </summary>
    public async Task<IntentResult> UnderstandAsync(IntentRecognizer recognizer, string text, Func<bool> stopTalking, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        ArgumentNullException.ThrowIfNull(stopTalking);
        var normalized = TextNormalizer.Normalize(text);
        if (_stopWords.Contains(normalized))
        {
            var stopped = stopTalking() | _question is not null;
            _question = null;
            lock (_alarmLock)
            {
                stopped |= _alarm is not null;
                _alarm = null;
            }

            return new IntentResult { Text = text, Intent = IntentNames.Nevermind, Status = IntentStatus.Ok, Source = "template", Response = stopped ? "OK." : string.Empty };
        }

        if (_question is { } question)
        {
            _question = null;
            if (s_yes.Contains(normalized))
            {
                return question with { Status = IntentStatus.Ok, Targets = question.PendingTargets ?? question.Targets, PendingTargets = null, Response = "OK." };
            }

            if (s_no.Contains(normalized))
            {
                return new IntentResult { Text = text, Intent = IntentNames.Nevermind, Status = IntentStatus.Ok, Source = "template", Response = "OK, I won't." };
            }
        }

        var result = await recognizer.RecognizeAsync(text, _options.Area.Length > 0 ? Context : null, cancellationToken).ConfigureAwait(false);
        if (result.Status == IntentStatus.Confirm)
        {
            _question = result;
        }

        return result.Status == IntentStatus.Ok ? ActOnTimers(result) : result;
    }

    /// <summary>
    /// What may be said over the hub's answer without the wake word: a stop word, or yes or no to the
    /// question it asks; null for anything else. The utterance may start with it and go on: the hub's
    /// own voice goes on under it until the stop word is understood, and what is left of it decodes as
    /// more words. A timer command that starts with one ("cancel the timer") is that command while timers run.
    /// </summary>
    public string? ForTheAnswer(string text, IntentRecognizer recognizer)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        var normalized = TextNormalizer.Normalize(text);
        if (_stopWords.Contains(normalized) || (_question is not null && IsYesOrNo(normalized)))
        {
            return normalized;
        }

        var stop = _stopWords.Where(stop => normalized.StartsWith(stop + " ", StringComparison.Ordinal)).MaxBy(stop => stop.Length);
        var timerCommand = stop is not null && _timers.Running.Count > 0
            && recognizer.RecognizeWithTemplates(normalized, new Dictionary<string, string>()) is { Status: IntentStatus.Ok, Intent: { } intent } && intent.Contains("Timer", StringComparison.Ordinal);
        return timerCommand ? normalized : stop;
    }

    /// <summary>
    /// The alarm's announcement when it is due (at once, then every <see cref="PipelineOptions.AlertRepeat"/>);
    /// null when nothing rings or it was said a moment ago. Given up after <see cref="PipelineOptions.AlarmGiveUpAfter"/>: nobody is home to hear it.
    /// </summary>
    public string? AlarmAnnouncementDue()
    {
        lock (_alarmLock)
        {
            var now = _clock.GetUtcNow();
            var announced = _alarmAnnounced != DateTimeOffset.MinValue;
            if (_alarm is not { } alarm || (announced && now - _alarmAnnounced < _options.AlertRepeat))
            {
                return null;
            }

            if (announced && now - alarm.Ends > _options.AlarmGiveUpAfter)
            {
                _alarm = null;
                return null;
            }

            _alarmAnnounced = now;
            return alarm.Name is null ? "Your timer is done." : $"Your {alarm.Name} timer is done.";
        }
    }

    /// <summary>What the hub says after acting: the command's response, or what went wrong with it.</summary>
    public static string Answer(IntentResult result, ActuationReport report)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(report);
        var failures = report.Failures.ToList();
        if (failures.Count > 0)
        {
            return failures.Count == report.Targets.Count
                ? $"Sorry, I couldn't do that: {failures[0].Problem}."
                : $"{result.Response} But {failures.Count} of them didn't respond.";
        }

        return report.Targets.Any(t => t.Status == TargetStatus.Queued)
            ? $"{result.Response} The hub is offline; I'll send it when it's back."
            : result.Response;
    }

    public void Dispose() => _timers.Finished -= OnTimerFinished;

    private IntentResult ActOnTimers(IntentResult result) => result.Intent switch
    {
        IntentNames.StartTimer => StartTimer(result),
        IntentNames.CancelTimer => result with { Response = _timers.Cancel(WhichTimer(result)) > 0 ? "Timer cancelled." : "There's no timer like that running." },
        IntentNames.CancelAllTimers => result with { Response = _timers.Cancel(new TimerSelector()) > 0 ? "All timers cancelled." : "There's no timer running." },
        IntentNames.PauseTimer => result with { Response = _timers.Pause(WhichTimer(result)) > 0 ? "Timer paused." : "There's no running timer like that." },
        IntentNames.UnpauseTimer => result with { Response = _timers.Resume(WhichTimer(result)) > 0 ? "Timer resumed." : "There's no paused timer like that." },
        IntentNames.IncreaseTimer => result with { Response = _timers.Adjust(WhichTimer(result), TimerLength(result, string.Empty)) > 0 ? result.Response : "There's no timer like that running." },
        IntentNames.DecreaseTimer => result with { Response = _timers.Adjust(WhichTimer(result), -TimerLength(result, string.Empty)) > 0 ? result.Response : "There's no timer like that running." },
        IntentNames.TimerStatus => result with { Response = _timers.Describe(WhichTimer(result)) },
        _ => result,
    };

    /// <summary>hours, minutes and seconds slots (with a prefix: start_hours ...) as one length.</summary>
    private static TimeSpan TimerLength(IntentResult result, string prefix)
    {
        double Slot(string name) => result.Slots.TryGetValue(prefix + name, out var v) ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : 0;
        return TimeSpan.FromHours(Slot("hours")) + TimeSpan.FromMinutes(Slot("minutes")) + TimeSpan.FromSeconds(Slot("seconds"));
    }

    /// <summary>The timer a command names: by name or by the length it was set for (the hub keeps one room's timers, so a room names them all).</summary>
    private static TimerSelector WhichTimer(IntentResult result) =>
        new(result.Slots.GetValueOrDefault("name")?.ToString(), TimerLength(result, "start_") is { Ticks: > 0 } length ? length : null);

    private IntentResult StartTimer(IntentResult result)
    {
        try
        {
            _timers.Start(TimerLength(result, string.Empty), result.Slots.GetValueOrDefault("name")?.ToString());
            return result;
        }
        catch (ArgumentOutOfRangeException)
        {
            return result with { Status = IntentStatus.Error, Response = "Timers run for up to 24 hours." };
        }
    }

    private void OnTimerFinished(LocalTimer timer)
    {
        lock (_alarmLock)
        {
            _alarm = timer;
            _alarmAnnounced = DateTimeOffset.MinValue;
        }

        LogTimerFinished(_logger, timer.Name ?? "timer", timer.Duration.TotalSeconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Name} ({Seconds:0} s) finished")]
    private static partial void LogTimerFinished(ILogger logger, string name, double seconds);
}
