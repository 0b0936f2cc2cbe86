using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>libsoxr 0.1.3 (Debian libsoxr0), <c>soxr.h</c>. Default I/O: interleaved float32.</summary>
internal static partial class Interop
{
    internal static unsafe partial class Soxr
    {
        public const string Library = "soxr";

        [LibraryImport(Library)]
        public static partial byte* soxr_version();

        [LibraryImport(Library)]
        public static partial nint soxr_create(double input_rate, double output_rate, uint num_channels, byte** error, nint io_spec, nint quality_spec, nint runtime_spec);

        [LibraryImport(Library)]
        public static partial byte* soxr_process(SoxrHandle resampler, float* input, nuint ilen, nuint* idone, float* output, nuint olen, nuint* odone);

        [LibraryImport(Library)]
        public static partial void soxr_delete(nint resampler);
    }
}
