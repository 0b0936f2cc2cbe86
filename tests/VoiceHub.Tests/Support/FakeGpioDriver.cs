using System.Collections.Concurrent;
using System.Device.Gpio;

namespace VoiceHub.Tests.Support;

/// <summary>
/// A System.Device.Gpio driver in memory, as the kernel's line API behaves for one chip: pins hold
/// a level, writes are recorded in order, and <see cref="SetInput"/> (the outside world: a button)
/// changes an input's level and queues the edge that <c>WaitForEvent</c> returns.
/// </summary>
public sealed class FakeGpioDriver(int pinCount = 32) : GpioDriver
{
    private readonly ConcurrentDictionary<int, PinMode> _modes = new();
    private readonly ConcurrentDictionary<int, PinValue> _levels = new();
    private readonly ConcurrentDictionary<int, BlockingCollection<PinEventTypes>> _edges = new();
    private readonly ConcurrentQueue<(int Pin, PinValue Value)> _writes = new();

    public IReadOnlyCollection<int> OpenPins => [.. _modes.Keys];

    public IReadOnlyList<(int Pin, PinValue Value)> Writes => [.. _writes];

    public PinMode ModeOf(int pin) => _modes[pin];

    public PinValue LevelOf(int pin) => _levels.GetValueOrDefault(pin, PinValue.Low);

    /// <summary>Sets an input's level from outside; an edge is queued when it changes.</summary>
    public void SetInput(int pin, PinValue level)
    {
        if (LevelOf(pin) != level)
        {
            _levels[pin] = level;
            Edges(pin).Add(level == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling);
        }
    }

    protected override int PinCount => pinCount;

    protected override void OpenPin(int pinNumber) => _modes[pinNumber] = PinMode.Input;

    protected override void ClosePin(int pinNumber) => _modes.TryRemove(pinNumber, out _);

    protected override void SetPinMode(int pinNumber, PinMode mode) => _modes[pinNumber] = mode;

    protected override PinMode GetPinMode(int pinNumber) => _modes[pinNumber];

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber) => LevelOf(pinNumber);

    protected override void Write(int pinNumber, PinValue value)
    {
        _levels[pinNumber] = value;
        _writes.Enqueue((pinNumber, value));
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var edge = Edges(pinNumber).Take(cancellationToken);
                if ((edge & eventTypes) != 0)
                {
                    return new WaitForEventResult { EventTypes = edge, TimedOut = false };
                }
            }
        }
        catch (OperationCanceledException)
        {
            return new WaitForEventResult { EventTypes = PinEventTypes.None, TimedOut = true };
        }
    }

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) =>
        throw new NotSupportedException("the hub waits for edges; it registers no callbacks");

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback) =>
        throw new NotSupportedException("the hub waits for edges; it registers no callbacks");

    private BlockingCollection<PinEventTypes> Edges(int pin) => _edges.GetOrAdd(pin, _ => []);
}
