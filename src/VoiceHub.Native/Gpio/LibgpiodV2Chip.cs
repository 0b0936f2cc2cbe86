using System.Runtime.InteropServices;
using static VoiceHub.Native.Interop.Gpiod3;

namespace VoiceHub.Native.Gpio;

/// <summary>A GPIO chip through the libgpiod 2.x API (settings, line config, request objects).</summary>
internal sealed unsafe class LibgpiodV2Chip : IGpioChip
{
    private readonly Gpiod3ChipHandle _chip;

    public LibgpiodV2Chip(string path)
    {
        var pointer = gpiod_chip_open(path);
        if (pointer == 0)
        {
            throw GpioChips.OpenError(path, Marshal.GetLastPInvokeError());
        }

        _chip = Gpiod3ChipHandle.Wrap(pointer);
        Name = Path.GetFileName(path);
        var info = gpiod_chip_get_info(_chip);
        try
        {
            Label = info == 0 ? string.Empty : Marshal.PtrToStringUTF8((nint)gpiod_chip_info_get_label(info)) ?? string.Empty;
            LineCount = info == 0 ? 0 : (int)gpiod_chip_info_get_num_lines(info);
        }
        finally
        {
            if (info != 0)
            {
                gpiod_chip_info_free(info);
            }
        }
    }

    public string Name { get; }

    public string Label { get; }

    public int LineCount { get; }

    public IGpioOutput RequestOutput(int line, string consumer, bool activeLow, bool initiallyActive) =>
        new Output(this, Request(line, consumer, settings =>
        {
            _ = gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT);
            gpiod_line_settings_set_active_low(settings, activeLow);
            _ = gpiod_line_settings_set_output_value(settings, initiallyActive ? GPIOD_LINE_VALUE_ACTIVE : 0);
        }), line, initiallyActive);

    public IGpioInput RequestInput(int line, string consumer, bool activeLow, GpioBias bias) =>
        new Input(this, Request(line, consumer, settings =>
        {
            _ = gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT);
            _ = gpiod_line_settings_set_edge_detection(settings, GPIOD_LINE_EDGE_BOTH);
            gpiod_line_settings_set_active_low(settings, activeLow);
            if (bias != GpioBias.AsIs)
            {
                _ = gpiod_line_settings_set_bias(settings, bias switch { GpioBias.PullUp => GPIOD_LINE_BIAS_PULL_UP, GpioBias.PullDown => GPIOD_LINE_BIAS_PULL_DOWN, _ => GPIOD_LINE_BIAS_DISABLED });
            }
        }), line);

    private Gpiod3RequestHandle Request(int line, string consumer, Action<nint> configure)
    {
        if (line < 0 || line >= LineCount)
        {
            throw new GpioException($"{Name} line {line}: the chip has lines 0 to {LineCount - 1}");
        }

        nint settings = gpiod_line_settings_new(), lineConfig = gpiod_line_config_new(), requestConfig = gpiod_request_config_new();
        try
        {
            if (settings == 0 || lineConfig == 0 || requestConfig == 0)
            {
                throw new GpioException($"{Name}: out of memory configuring line {line}");
            }

            configure(settings);
            var offset = (uint)line;
            _ = gpiod_line_config_add_line_settings(lineConfig, &offset, 1, settings);
            gpiod_request_config_set_consumer(requestConfig, consumer);
            var request = gpiod_chip_request_lines(_chip, requestConfig, lineConfig);
            return request == 0 ? throw GpioChips.LineError(Name, line, null, Marshal.GetLastPInvokeError()) : Gpiod3RequestHandle.Wrap(_chip, request);
        }
        finally
        {
            if (settings != 0)
            {
                gpiod_line_settings_free(settings);
            }

            if (lineConfig != 0)
            {
                gpiod_line_config_free(lineConfig);
            }

            if (requestConfig != 0)
            {
                gpiod_request_config_free(requestConfig);
            }
        }
    }

    public void Dispose() => _chip.Dispose();

    private sealed class Output(LibgpiodV2Chip chip, Gpiod3RequestHandle request, int offset, bool active) : IGpioOutput
    {
        public int Line => offset;

        public bool IsActive { get; private set; } = active;

        public void Drive(bool value)
        {
            if (gpiod_line_request_set_value(request, (uint)offset, value ? GPIOD_LINE_VALUE_ACTIVE : 0) < 0)
            {
                throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError());
            }

            IsActive = value;
        }

        public void Dispose() => request.Dispose();
    }

    private sealed class Input(LibgpiodV2Chip chip, Gpiod3RequestHandle request, int offset) : IGpioInput
    {
        private readonly nint _events = gpiod_edge_event_buffer_new(1);

        public int Line => offset;

        public bool IsActive => gpiod_line_request_get_value(request, (uint)offset) switch
        {
            < 0 => throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError()),
            var v => v == GPIOD_LINE_VALUE_ACTIVE,
        };

        public GpioEdge? WaitForEdge(TimeSpan timeout)
        {
            switch (gpiod_line_request_wait_edge_events(request, timeout.Ticks * 100))
            {
                case 0:
                    return null;
                case < 0:
                    throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError());
            }

            if (gpiod_line_request_read_edge_events(request, _events, 1) < 1)
            {
                throw GpioChips.LineError(chip.Name, offset, null, Marshal.GetLastPInvokeError());
            }

            return new GpioEdge(gpiod_edge_event_get_event_type(gpiod_edge_event_buffer_get_event(_events, 0)) == GPIOD_EDGE_EVENT_RISING_EDGE);
        }

        public void Dispose()
        {
            request.Dispose();
            if (_events != 0)
            {
                gpiod_edge_event_buffer_free(_events);
            }
        }
    }
}
