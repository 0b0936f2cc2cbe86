using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Dialog;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Pipeline;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Dialog;

/// <summary>The conversation beyond one command: stop words, the hub's question, timers and their alarms, what may be said over an answer.</summary>
public sealed class DialogPolicyTests : IDisposable
{
    private static readonly Lazy<IntentRecognizer> s_recognizer = new(() => IntentRecognizer.Create(
        IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")),
        DevicesFile.Parse("devices.yaml", File.ReadAllText(Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml"))),
        fuzzy: false));

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 29, 18, 0, 0, TimeSpan.Zero));
    private readonly TimerService _timers;
    private readonly DialogPolicy _dialog;
    private int _answersStopped;

    public DialogPolicyTests()
    {
        _timers = new TimerService(_clock);
        _dialog = new DialogPolicy(new PipelineOptions { AlertRepeat = TimeSpan.FromSeconds(6), AlarmGiveUpAfter = TimeSpan.FromMinutes(1) }, _timers, NullLogger.Instance, _clock);
    }

    public void Dispose()
    {
        _dialog.Dispose();
        _timers.Dispose();
    }

    private Task<IntentResult> Say(string text) => _dialog.UnderstandAsync(s_recognizer.Value, text, () =>
    {
        _answersStopped++;
        return false;
    }, CancellationToken.None);

    [Fact]
    public async Task A_finished_timer_rings_again_every_few_seconds_until_stop()
    {
        var started = await Say("set a timer for 2 minutes");
        Assert.Equal(IntentNames.StartTimer, started.Intent);

        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.True(_dialog.AlarmRinging);
        Assert.Equal("Your timer is done.", _dialog.AlarmAnnouncementDue());
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Null(_dialog.AlarmAnnouncementDue()); // said a moment ago
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal("Your timer is done.", _dialog.AlarmAnnouncementDue());

        var stop = await Say("stop");
        Assert.Equal((IntentNames.Nevermind, "OK."), (stop.Intent, stop.Response));
        Assert.Equal(1, _answersStopped);
        Assert.False(_dialog.AlarmRinging);
        Assert.Null(_dialog.AlarmAnnouncementDue());
    }

    [Fact]
    public async Task An_alarm_nobody_stops_is_given_up_after_its_time()
    {
        await Say("set a timer for 1 minute");
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.NotNull(_dialog.AlarmAnnouncementDue());

        _clock.Advance(TimeSpan.FromSeconds(61));

        Assert.Null(_dialog.AlarmAnnouncementDue());
        Assert.False(_dialog.AlarmRinging);
    }

    [Fact]
    public async Task The_hubs_question_is_answered_by_yes_and_dropped_by_a_stop_word()
    {
        var asked = await Say("open the garage door");
        Assert.Equal(IntentStatus.Confirm, asked.Status);
        Assert.True(_dialog.QuestionPending);
        Assert.Equal(TimeSpan.FromSeconds(8), _dialog.ReplyWindow(asked));

        var yes = await Say("yes");
        Assert.Equal((IntentNames.TurnOn, IntentStatus.Ok), (yes.Intent, yes.Status));
        Assert.Contains("cover.garage_door", yes.Targets);

        await Say("open the garage door");
        var stop = await Say("never mind");
        Assert.Equal(IntentNames.Nevermind, stop.Intent);
        Assert.False(_dialog.QuestionPending);
        var late = await Say("yes");
        Assert.Equal(("VoiceHubYes", "There's nothing to confirm"), (late.Intent, late.Response)); // nothing is asked any more
    }

    [Theory]
    [InlineData("stop", false, "stop")]
    [InlineData("stop countdown", false, "stop")] // the hub's own voice goes on under the stop word
    [InlineData("yes", false, null)] // nothing was asked
    [InlineData("turn on the kitchen light", false, null)] // people talking to each other, or the hub's own words
    [InlineData("cancel the timer", true, "cancel the timer")] // a timer command while a timer runs
    [InlineData("cancel the timer", false, "cancel")]
    public async Task Over_an_answer_only_a_stop_word_a_reply_or_a_timer_command_is_taken(string heard, bool timerRunning, string? taken)
    {
        if (timerRunning)
        {
            await Say("set a timer for 5 minutes");
        }

        Assert.Equal(taken, _dialog.ForTheAnswer(heard, s_recognizer.Value));
    }
}
