using System.Collections.Concurrent;

namespace VoiceHub.Core.Gpio;

/// <summary>
/// A GPIO chip in memory that behaves as the kernel's does for the hub: lines are claimed by one
/// consumer at a time (a second claim fails as "already in use"), outputs hold a physical level
/// that respects active-low wiring, and inputs raise edge events when the outside world changes
/// their level. Tests and the demo use it where no /dev/gpiochipN exists; <see cref="SetInput"/>
/// and <see cref="PhysicalLevel"/> are the outside world (a button, a meter on an LED).
/// </summary>
public sealed class SimulatedGpioChip(string name = "simulated", int lineCount = 32) : IGpioChip
{
    private readonly Lock _lock = new();
    private readonly Line[] _lines = [.. Enumerable.Range(0, lineCount).Select(_ => new Line())];

    public string Name { get; } = name;

    public string Label => "VoiceHub simulated GPIO";

    public int LineCount => _lines.Length;

    /// <summary>Every level an output was driven to, in order (line, physical high), for tests of patterns.</summary>
    public event Action<int, bool>? OutputChanged;

    public IGpioOutput RequestOutput(int line, string consumer, bool activeLow, bool initiallyActive)
    {
        var state = Claim(line, consumer, activeLow, output: true);
        lock (_lock)
        {
            state.PhysicalHigh = initiallyActive != activeLow;
        }

        return new Output(this, line);
    }

    public IGpioInput RequestInput(int line, string consumer, bool activeLow, GpioBias bias)
    {
        var state = Claim(line, consumer, activeLow, output: false);
        lock (_lock)
        {
            state.PhysicalHigh = bias == GpioBias.PullUp || (state.PhysicalHigh && bias != GpioBias.PullDown);
            state.Edges = new BlockingCollection<GpioEdge>();
        }

        return new Input(this, line);
    }

    /// <summary>The outside world drives an input line (physical level: true = high).</summary>
    public void SetInput(int line, bool physicalHigh)
    {
        lock (_lock)
        {
            var state = _lines[line];
            if (state.PhysicalHigh == physicalHigh)
            {
                return;
            }

            state.PhysicalHigh = physicalHigh;
            state.Edges?.Add(new GpioEdge(physicalHigh != state.ActiveLow));
        }
    }

    /// <summary>The physical level of a line (true = high).</summary>
    public bool PhysicalLevel(int line)
    {
        lock (_lock)
        {
            return _lines[line].PhysicalHigh;
        }
    }

    /// <summary>Who holds a line, or null when it is free.</summary>
    public string? ConsumerOf(int line)
    {
        lock (_lock)
        {
            return _lines[line].Consumer;
        }
    }

    private Line Claim(int line, string consumer, bool activeLow, bool output)
    {
        if (line < 0 || line >= _lines.Length)
        {
            throw new GpioException($"{Name} line {line}: the chip has lines 0 to {_lines.Length - 1}");
        }

        lock (_lock)
        {
            var state = _lines[line];
            if (state.Consumer is not null)
            {
                throw GpioChips.LineError(Name, line, state.Consumer, 16);
            }

            state.Consumer = consumer;
            state.ActiveLow = activeLow;
            state.IsOutput = output;
            return state;
        }
    }

    private void Release(int line)
    {
        lock (_lock)
        {
            var state = _lines[line];
            state.Consumer = null;
            state.Edges?.CompleteAdding();
            state.Edges = null;
        }
    }

    public void Dispose()
    {
    }

    private sealed class Line
    {
        public string? Consumer { get; set; }

        public bool ActiveLow { get; set; }

        public bool IsOutput { get; set; }

        public bool PhysicalHigh { get; set; }

        public BlockingCollection<GpioEdge>? Edges { get; set; }
    }

    private sealed class Output(SimulatedGpioChip chip, int line) : IGpioOutput
    {
        private bool _released;

        public int Line => line;

        public bool IsActive
        {
            get
            {
                lock (chip._lock)
                {
                    return chip._lines[line].PhysicalHigh != chip._lines[line].ActiveLow;
                }
            }
        }

        public void Drive(bool active)
        {
            ObjectDisposedException.ThrowIf(_released, this);
            bool high;
            lock (chip._lock)
            {
                var state = chip._lines[line];
                high = active != state.ActiveLow;
                if (state.PhysicalHigh == high)
                {
                    return;
                }

                state.PhysicalHigh = high;
            }

            chip.OutputChanged?.Invoke(line, high);
        }

        public void Dispose()
        {
            if (!_released)
            {
                _released = true;
                chip.Release(line);
            }
        }
    }

    private sealed class Input(SimulatedGpioChip chip, int line) : IGpioInput
    {
        private readonly BlockingCollection<GpioEdge> _edges = chip._lines[line].Edges!;
        private bool _released;

        public int Line => line;

        public bool IsActive
        {
            get
            {
                lock (chip._lock)
                {
                    return chip._lines[line].PhysicalHigh != chip._lines[line].ActiveLow;
                }
            }
        }

        // A blocking wait, as the kernel's: no thread-pool timer that a busy pool could delay.
        public GpioEdge? WaitForEdge(TimeSpan timeout) =>
            !_edges.IsAddingCompleted && _edges.TryTake(out var edge, timeout) ? edge : null;

        public void Dispose()
        {
            if (!_released)
            {
                _released = true;
                chip.Release(line);
            }
        }
    }
}
