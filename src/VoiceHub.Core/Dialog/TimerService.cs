using System.Globalization;
using VoiceHub.Core.Devices;

namespace VoiceHub.Core.Dialog;

/// <summary>A kitchen timer the hub keeps itself (no cloud, no Home Assistant needed). A paused timer has no end, only what remains.</summary>
public sealed record LocalTimer(int Id, string? Name, TimeSpan Duration, DateTimeOffset Ends, TimeSpan? PausedWithLeft = null)
{
    public bool IsPaused => PausedWithLeft is not null;
}

/// <summary>Which timers a command means: by name, by the length it was set for, or (neither given) all of them.</summary>
public sealed record TimerSelector(string? Name = null, TimeSpan? StartedWith = null)
{
    public bool Matches(LocalTimer timer) =>
        (Name is null || string.Equals(timer.Name?.Trim(), Name.Trim(), StringComparison.OrdinalIgnoreCase)) && (StartedWith is null || timer.Duration == StartedWith);
}

/// <summary>
/// Local timers: start, cancel, pause, resume, add or take off time, status, and a
/// <see cref="Finished"/> event the pipeline turns into an alert (LED alarm, spoken reminder, an
/// MQTT event) until "stop".
/// </summary>
public sealed class TimerService(TimeProvider? clock = null) : IDisposable
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, (LocalTimer Timer, ITimer? Handle)> _running = [];
    private int _nextId;

    public event Action<LocalTimer>? Finished;

    public IReadOnlyList<LocalTimer> Running
    {
        get
        {
            lock (_lock)
            {
                return [.. _running.Values.Select(r => r.Timer).OrderBy(t => t.IsPaused).ThenBy(t => t.Ends)];
            }
        }
    }

    public LocalTimer Start(TimeSpan duration, string? name = null)
    {
        if (duration <= TimeSpan.Zero || duration > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(duration), "a timer runs for more than zero and at most 24 hours");
        }

        lock (_lock)
        {
            var id = ++_nextId;
            var timer = new LocalTimer(id, name, duration, _clock.GetUtcNow() + duration);
            _running[id] = (timer, Schedule(id, duration));
            return timer;
        }
    }

    /// <summary>Cancels the timer of that name, or every timer when no name is given; returns how many stopped.</summary>
    public int Cancel(string? name = null) => Cancel(new TimerSelector(name));

    /// <summary>Cancels the timers the selector names; returns how many stopped.</summary>
    public int Cancel(TimerSelector which)
    {
        ArgumentNullException.ThrowIfNull(which);
        lock (_lock)
        {
            var matching = _running.Values.Where(r => which.Matches(r.Timer)).ToList();
            foreach (var (timer, handle) in matching)
            {
                handle?.Dispose();
                _running.Remove(timer.Id);
            }

            return matching.Count;
        }
    }

    /// <summary>Stops the selected running timers where they are; returns how many paused.</summary>
    public int Pause(TimerSelector which)
    {
        ArgumentNullException.ThrowIfNull(which);
        lock (_lock)
        {
            var now = _clock.GetUtcNow();
            var matching = _running.Values.Where(r => !r.Timer.IsPaused && which.Matches(r.Timer)).ToList();
            foreach (var (timer, handle) in matching)
            {
                handle?.Dispose();
                _running[timer.Id] = (timer with { PausedWithLeft = timer.Ends - now }, null);
            }

            return matching.Count;
        }
    }

    /// <summary>Starts the selected paused timers again with what they had left; returns how many resumed.</summary>
    public int Resume(TimerSelector which)
    {
        ArgumentNullException.ThrowIfNull(which);
        lock (_lock)
        {
            var matching = _running.Values.Where(r => r.Timer.IsPaused && which.Matches(r.Timer)).ToList();
            foreach (var (timer, _) in matching)
            {
                var left = timer.PausedWithLeft!.Value;
                _running[timer.Id] = (timer with { Ends = _clock.GetUtcNow() + left, PausedWithLeft = null }, Schedule(timer.Id, left));
            }

            return matching.Count;
        }
    }

    /// <summary>Adds (or with a negative change takes off) time from the selected timers; one that reaches zero finishes now.</summary>
    public int Adjust(TimerSelector which, TimeSpan change)
    {
        ArgumentNullException.ThrowIfNull(which);
        List<int> finished = [];
        int count;
        lock (_lock)
        {
            var now = _clock.GetUtcNow();
            var matching = _running.Values.Where(r => which.Matches(r.Timer)).ToList();
            count = matching.Count;
            foreach (var (timer, handle) in matching)
            {
                handle?.Dispose();
                var left = (timer.PausedWithLeft ?? timer.Ends - now) + change;
                if (left <= TimeSpan.Zero)
                {
                    _running[timer.Id] = (timer, null);
                    finished.Add(timer.Id);
                    continue;
                }

                _running[timer.Id] = timer.IsPaused
                    ? (timer with { PausedWithLeft = left }, null)
                    : (timer with { Ends = now + left }, Schedule(timer.Id, left));
            }
        }

        finished.ForEach(Finish);
        return count;
    }

    /// <summary>"4 minutes and 10 seconds left" for each selected timer, or that none runs.</summary>
    public string Describe(TimerSelector? which = null)
    {
        var now = _clock.GetUtcNow();
        var timers = Running.Where(t => which?.Matches(t) ?? true).ToList();
        return timers.Count == 0
            ? "There's no timer running"
            : string.Join("; ", timers.Select(t => $"{(t.Name is null ? string.Empty : t.Name + ": ")}{Spoken(t.PausedWithLeft ?? t.Ends - now)} left{(t.IsPaused ? " (paused)" : string.Empty)}"));
    }

    private ITimer Schedule(int id, TimeSpan after) => _clock.CreateTimer(_ => Finish(id), null, after, Timeout.InfiniteTimeSpan);

    public static string Spoken(TimeSpan span)
    {
        span = span < TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Ceiling(span.TotalSeconds));
        var parts = new List<string>();
        void Add(int value, string unit)
        {
            if (value > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{value} {unit}{(value == 1 ? string.Empty : "s")}"));
            }
        }

        Add((int)span.TotalHours, "hour");
        Add(span.Minutes, "minute");
        Add(span.Seconds, "second");
        return parts.Count == 0 ? "no time" : string.Join(" and ", parts);
    }

    private void Finish(int id)
    {
        LocalTimer timer;
        lock (_lock)
        {
            if (!_running.Remove(id, out var entry))
            {
                return;
            }

            entry.Handle?.Dispose();
            timer = entry.Timer;
        }

        Finished?.Invoke(timer);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (_, handle) in _running.Values)
            {
                handle?.Dispose();
            }

            _running.Clear();
        }
    }
}
