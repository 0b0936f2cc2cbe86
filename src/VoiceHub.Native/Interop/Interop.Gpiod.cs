using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>libgpiod 1.x (Debian bookworm's libgpiod2, <c>libgpiod.so.2</c>), <c>gpiod.h</c>.</summary>
internal static partial class Interop
{
    internal static unsafe partial class Gpiod
    {
        public const string Library = "gpiod";
        public const int GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW = 1 << 2;
        public const int GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE = 1 << 3;
        public const int GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN = 1 << 4;
        public const int GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP = 1 << 5;
        public const int GPIOD_LINE_EVENT_RISING_EDGE = 1;
        public const int GPIOD_LINE_EVENT_FALLING_EDGE = 2;

        [NativeStruct("timespec")]
        public struct gpiod_timespec
        {
            public long tv_sec;
            public long tv_nsec;
        }

        [NativeStruct("gpiod_line_event")]
        public struct gpiod_line_event
        {
            public gpiod_timespec ts;
            public int event_type;
        }

        [LibraryImport(Library)]
        public static partial byte* gpiod_version_string();

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial nint gpiod_chip_open(string path);

        [LibraryImport(Library)]
        public static partial void gpiod_chip_close(nint chip);

        [LibraryImport(Library)]
        public static partial byte* gpiod_chip_label(GpiodChipHandle chip);

        [LibraryImport(Library)]
        public static partial uint gpiod_chip_num_lines(GpiodChipHandle chip);

        /// <summary>The line belongs to the chip (never freed by itself); it is only requested and released.</summary>
        [LibraryImport(Library, SetLastError = true)]
        public static partial nint gpiod_chip_get_line(GpiodChipHandle chip, uint offset);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int gpiod_line_request_output_flags(nint line, string consumer, int flags, int default_val);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int gpiod_line_request_both_edges_events_flags(nint line, string consumer, int flags);

        [LibraryImport(Library)]
        public static partial void gpiod_line_release(nint line);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_set_value(GpiodLineHandle line, int value);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_get_value(GpiodLineHandle line);

        [LibraryImport(Library)]
        public static partial byte* gpiod_line_consumer(nint line);

        /// <summary>0: timed out, 1: an event is waiting, -1: error.</summary>
        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_event_wait(GpiodLineHandle line, gpiod_timespec* timeout);

        [LibraryImport(Library, SetLastError = true)]
        public static partial int gpiod_line_event_read(GpiodLineHandle line, gpiod_line_event* gpioEvent);
    }
}
