using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>libspeexdsp 1.2 (Debian libspeexdsp1), <c>speex/speex_echo.h</c> and <c>speex/speex_preprocess.h</c>. Samples are int16.</summary>
internal static partial class Interop
{
    internal static unsafe partial class SpeexDsp
    {
        public const string Library = "speexdsp";

        public const int SPEEX_ECHO_SET_SAMPLING_RATE = 24;
        public const int SPEEX_PREPROCESS_SET_DENOISE = 0;
        public const int SPEEX_PREPROCESS_SET_AGC = 2;
        public const int SPEEX_PREPROCESS_SET_NOISE_SUPPRESS = 18;
        public const int SPEEX_PREPROCESS_SET_ECHO_STATE = 24;

        [LibraryImport(Library)]
        public static partial nint speex_echo_state_init(int frame_size, int filter_length);

        [LibraryImport(Library)]
        public static partial void speex_echo_state_destroy(nint st);

        [LibraryImport(Library)]
        public static partial void speex_echo_cancellation(SpeexEchoHandle st, short* rec, short* play, short* @out);

        [LibraryImport(Library)]
        public static partial void speex_echo_state_reset(SpeexEchoHandle st);

        [LibraryImport(Library)]
        public static partial int speex_echo_ctl(SpeexEchoHandle st, int request, void* ptr);

        [LibraryImport(Library)]
        public static partial nint speex_preprocess_state_init(int frame_size, int sampling_rate);

        [LibraryImport(Library)]
        public static partial void speex_preprocess_state_destroy(nint st);

        [LibraryImport(Library)]
        public static partial int speex_preprocess_run(SpeexPreprocessHandle st, short* x);

        [LibraryImport(Library)]
        public static partial int speex_preprocess_ctl(SpeexPreprocessHandle st, int request, void* ptr);
    }
}
