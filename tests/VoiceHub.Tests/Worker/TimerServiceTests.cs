using VoiceHub.Core.Dialog;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>The hub's own timers: pause, resume, more or less time, and which timer a command means.</summary>
public sealed class TimerServiceTests
{
    private readonly ManualClock _clock = new();

    [Fact]
    public void A_paused_timer_keeps_what_it_had_left_and_resumes_from_there()
    {
        using var timers = new TimerService(_clock);
        timers.Start(TimeSpan.FromMinutes(10));
        _clock.Advance(TimeSpan.FromMinutes(4));

        Assert.Equal(1, timers.Pause(new TimerSelector()));
        _clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal("6 minutes left (paused)", timers.Describe());
        Assert.Equal(1, timers.Resume(new TimerSelector()));
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromMinutes(6), Assert.Single(timers.Running).Ends);
        Assert.Equal(0, timers.Resume(new TimerSelector())); // nothing paused any more
    }

    [Fact]
    public void Time_added_moves_the_end_and_time_taken_past_zero_finishes_the_timer()
    {
        using var timers = new TimerService(_clock);
        var finished = new List<LocalTimer>();
        timers.Finished += finished.Add;
        timers.Start(TimeSpan.FromMinutes(10), "pizza");

        Assert.Equal(1, timers.Adjust(new TimerSelector("pizza"), TimeSpan.FromMinutes(5)));
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromMinutes(15), Assert.Single(timers.Running).Ends);

        timers.Adjust(new TimerSelector("pizza"), -TimeSpan.FromMinutes(20));

        Assert.Empty(timers.Running);
        Assert.Equal("pizza", Assert.Single(finished).Name);
    }

    [Fact]
    public void A_command_names_a_timer_by_name_or_by_the_length_it_was_set_for()
    {
        using var timers = new TimerService(_clock);
        timers.Start(TimeSpan.FromMinutes(5), "tea");
        timers.Start(TimeSpan.FromMinutes(10));

        Assert.Equal(1, timers.Cancel(new TimerSelector(StartedWith: TimeSpan.FromMinutes(10))));
        Assert.Equal("tea", Assert.Single(timers.Running).Name);
        Assert.Equal(0, timers.Cancel(new TimerSelector("coffee")));
        Assert.Equal(1, timers.Cancel(new TimerSelector("Tea "))); // as a wildcard heard it
        Assert.Empty(timers.Running);
    }
}
