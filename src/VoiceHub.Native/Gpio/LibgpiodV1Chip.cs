using System.Runtime.InteropServices;
using static VoiceHub.Native.Interop.Gpiod;

namespace VoiceHub.Native.Gpio;

/// <summary>A GPIO chip through the libgpiod 1.x API (Debian bookworm's libgpiod2).</summary>
internal sealed unsafe class LibgpiodV1Chip : IGpioChip
{
    private readonly GpiodChipHandle _chip;

    public LibgpiodV1Chip(string path)
    {
        var pointer = gpiod_chip_open(path);
        if (pointer == 0)
        {
            throw GpioChips.OpenError(path, Marshal.GetLastPInvokeError());
        }

        _chip = GpiodChipHandle.Wrap(pointer);
        Name = Path.GetFileName(path);
        Label = Marshal.PtrToStringUTF8((nint)gpiod_chip_label(_chip)) ?? string.Empty;
        LineCount = (int)gpiod_chip_num_lines(_chip);
    }

    public string Name { get; }

    public string Label { get; }

    public int LineCount { get; }

    public IGpioOutput RequestOutput(int line, string consumer, bool activeLow, bool initiallyActive)
    {
        var handle = Request(line, consumer, raw => gpiod_line_request_output_flags(raw, consumer, activeLow ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0, initiallyActive ? 1 : 0));
        return new Output(this, handle, line, initiallyActive);
    }

    public IGpioInput RequestInput(int line, string consumer, bool activeLow, GpioBias bias)
    {
        var flags = (activeLow ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0) | bias switch
        {
            GpioBias.Disabled => GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE,
            GpioBias.PullUp => GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP,
            GpioBias.PullDown => GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN,
            _ => 0,
        };
        return new Input(this, Request(line, consumer, raw => gpiod_line_request_both_edges_events_flags(raw, consumer, flags)), line);
    }

    private GpiodLineHandle Request(int line, string consumer, Func<nint, int> request)
    {
        if (line < 0 || line >= LineCount)
        {
            throw new GpioException($"{Name} line {line}: the chip has lines 0 to {LineCount - 1}");
        }

        var raw = gpiod_chip_get_line(_chip, (uint)line);
        if (raw == 0)
        {
            throw GpioChips.LineError(Name, line, null, Marshal.GetLastPInvokeError());
        }

        if (request(raw) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw GpioChips.LineError(Name, line, Marshal.PtrToStringUTF8((nint)gpiod_line_consumer(raw)), errno);
        }

        return GpiodLineHandle.Wrap(_chip, raw);
    }

    public void Dispose() => _chip.Dispose();

    private sealed class Output(LibgpiodV1Chip chip, GpiodLineHandle line, int offset, bool active) : IGpioOutput
    {
        public int Line => offset;

        public bool IsActive { get; private set; } = active;

        public void Drive(bool value)
        {
            if (gpiod_line_set_value(line, value ? 1 : 0) < 0)
            {
                throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError());
            }

            IsActive = value;
        }

        public void Dispose() => line.Dispose();
    }

    private sealed class Input(LibgpiodV1Chip chip, GpiodLineHandle line, int offset) : IGpioInput
    {
        public int Line => offset;

        public bool IsActive => gpiod_line_get_value(line) switch
        {
            < 0 => throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError()),
            var v => v == 1,
        };

        public GpioEdge? WaitForEdge(TimeSpan timeout)
        {
            var wait = new gpiod_timespec { tv_sec = (long)timeout.TotalSeconds, tv_nsec = timeout.Ticks % TimeSpan.TicksPerSecond * 100 };
            switch (gpiod_line_event_wait(line, &wait))
            {
                case 0:
                    return null;
                case < 0:
                    throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError());
            }

            gpiod_line_event edge;
            if (gpiod_line_event_read(line, &edge) < 0)
            {
                throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError());
            }

            // Events are logical: with active-low, a rising event means the line became active.
            return new GpioEdge(edge.event_type == GPIOD_LINE_EVENT_RISING_EDGE);
        }

        public void Dispose() => line.Dispose();
    }
}
