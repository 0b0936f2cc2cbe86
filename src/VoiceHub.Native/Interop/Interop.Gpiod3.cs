using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>libgpiod 2.x (<c>libgpiod.so.3</c>, Debian trixie's libgpiod3), <c>gpiod.h</c>. Opaque objects only: no struct is mirrored.</summary>
internal static partial class Interop
{
    internal static unsafe partial class Gpiod3
    {
        public const string Library = "gpiod3";
        public const int GPIOD_LINE_VALUE_ACTIVE = 1;
        public const int GPIOD_LINE_DIRECTION_INPUT = 2;
        public const int GPIOD_LINE_DIRECTION_OUTPUT = 3;
        public const int GPIOD_LINE_EDGE_BOTH = 4;
        public const int GPIOD_LINE_BIAS_DISABLED = 3;
        public const int GPIOD_LINE_BIAS_PULL_UP = 4;
        public const int GPIOD_LINE_BIAS_PULL_DOWN = 5;
        public const int GPIOD_EDGE_EVENT_RISING_EDGE = 1;

        [LibraryImport(Library)]
        public static partial byte* gpiod_api_version();

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial nint gpiod_chip_open(string path);

        [LibraryImport(Library)]
        public static partial void gpiod_chip_close(nint chip);

        [LibraryImport(Library)]
        public static partial nint gpiod_chip_get_info(Gpiod3ChipHandle chip);

        [LibraryImport(Library)]
        public static partial byte* gpiod_chip_info_get_label(nint info);

        [LibraryImport(Library)]
        public static partial nuint gpiod_chip_info_get_num_lines(nint info);

        [LibraryImport(Library)]
        public static partial void gpiod_chip_info_free(nint info);

        [LibraryImport(Library)]
        public static partial nint gpiod_line_settings_new();

        [LibraryImport(Library)]
        public static partial void gpiod_line_settings_free(nint settings);

        [LibraryImport(Library)]
        public static partial int gpiod_line_settings_set_direction(nint settings, int direction);

        [LibraryImport(Library)]
        public static partial int gpiod_line_settings_set_edge_detection(nint settings, int edge);

        [LibraryImport(Library)]
        public static partial int gpiod_line_settings_set_bias(nint settings, int bias);

        [LibraryImport(Library)]
        public static partial void gpiod_line_settings_set_active_low(nint settings, [MarshalAs(UnmanagedType.U1)] bool activeLow);

        [LibraryImport(Library)]
        public static partial int gpiod_line_settings_set_output_value(nint settings, int value);

        [LibraryImport(Library)]
        public static partial nint gpiod_line_config_new();

        [LibraryImport(Library)]
        public static partial void gpiod_line_config_free(nint config);

        [LibraryImport(Library)]
        public static partial int gpiod_line_config_add_line_settings(nint config, uint* offsets, nuint count, nint settings);

        [LibraryImport(Library)]
        public static partial nint gpiod_request_config_new();

        [LibraryImport(Library)]
        public static partial void gpiod_request_config_free(nint config);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial void gpiod_request_config_set_consumer(nint config, string consumer);

        [LibraryImport(Library, SetLastError = true)]
        public static partial nint gpiod_chip_request_lines(Gpiod3ChipHandle chip, nint requestConfig, nint lineConfig);

        [LibraryImport(Library)]
        public static partial void gpiod_line_request_release(nint request);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_request_set_value(Gpiod3RequestHandle request, uint offset, int value);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_request_get_value(Gpiod3RequestHandle request, uint offset);

        /// <summary>0: timed out, 1: events are waiting, -1: error.</summary>
        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_request_wait_edge_events(Gpiod3RequestHandle request, long timeoutNs);

        [LibraryImport(Library)]
        public static partial nint gpiod_edge_event_buffer_new(nuint capacity);

        [LibraryImport(Library)]
        public static partial void gpiod_edge_event_buffer_free(nint buffer);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_request_read_edge_events(Gpiod3RequestHandle request, nint buffer, nuint maxEvents);

        [LibraryImport(Library)]
        public static partial nint gpiod_edge_event_buffer_get_event(nint buffer, ulong index);

        [LibraryImport(Library)]
        public static partial int gpiod_edge_event_get_event_type(nint gpioEvent);
    }
}
