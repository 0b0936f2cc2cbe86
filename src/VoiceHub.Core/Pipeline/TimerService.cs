using System.Globalization;

namespace VoiceHub.Core.Pipeline;

/// <summary>A kitchen timer the hub keeps itself (no cloud, no Home Assistant needed).</summary>
public sealed record LocalTimer(int Id, string? Name, TimeSpan Duration, DateTimeOffset Ends);

/// <summary>
/// Local timers: start, cancel (by name or all), status, and a <see cref="Finished"/> event the
/// pipeline turns into an alert (LED alarm, spoken reminder, an MQTT event) until "stop".
/// </summary>
public sealed class TimerService(TimeProvider? clock = null) : IDisposable
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, (LocalTimer Timer, ITimer Handle)> _running = [];
    private int _nextId;

    public event Action<LocalTimer>? Finished;

    public IReadOnlyList<LocalTimer> Running
    {
        get
        {
            lock (_lock)
            {
                return [.. _running.Values.Select(r => r.Timer).OrderBy(t => t.Ends)];
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
            var handle = _clock.CreateTimer(_ => Finish(id), null, duration, Timeout.InfiniteTimeSpan);
            _running[id] = (timer, handle);
            return timer;
        }
    }

    /// <summary>Cancels the timer of that name, or every timer when no name is given; returns how many stopped.</summary>
    public int Cancel(string? name = null)
    {
        lock (_lock)
        {
            var matching = _running.Values.Where(r => name is null || string.Equals(r.Timer.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
            foreach (var (timer, handle) in matching)
            {
                handle.Dispose();
                _running.Remove(timer.Id);
            }

            return matching.Count;
        }
    }

    /// <summary>"4 minutes and 10 seconds left" for each timer, or that none runs.</summary>
    public string Describe()
    {
        var now = _clock.GetUtcNow();
        var timers = Running;
        return timers.Count == 0
            ? "There's no timer running"
            : string.Join("; ", timers.Select(t => $"{(t.Name is null ? string.Empty : t.Name + ": ")}{Spoken(t.Ends - now)} left"));
    }

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

            entry.Handle.Dispose();
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
                handle.Dispose();
            }

            _running.Clear();
        }
    }
}
