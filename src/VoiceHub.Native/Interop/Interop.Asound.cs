using System.Runtime.InteropServices;

namespace VoiceHub.Native;

/// <summary>alsa-lib 1.2 (Debian libasound2): <c>alsa/pcm.h</c>, <c>alsa/conf.h</c>, <c>alsa/input.h</c>.</summary>
internal static partial class Interop
{
    internal static unsafe partial class Asound
    {
        public const string Library = "asound";

        public const int SND_PCM_STREAM_PLAYBACK = 0;
        public const int SND_PCM_STREAM_CAPTURE = 1;
        public const int SND_PCM_ACCESS_RW_INTERLEAVED = 3;
        public const int SND_PCM_FORMAT_S16_LE = 2;
        public const int SND_PCM_FORMAT_S24_LE = 6;
        public const int SND_PCM_FORMAT_S32_LE = 10;
        public const int SND_PCM_FORMAT_FLOAT_LE = 14;

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int snd_pcm_open(nint* pcm, string name, int stream, int mode);

        /// <summary>Replaces libasound's error printer (which writes to stderr); the handler is variadic in C and ignores the rest.</summary>
        [LibraryImport(Library)]
        public static partial int snd_lib_error_set_handler(delegate* unmanaged<byte*, int, byte*, int, byte*, void> handler);

        [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int snd_pcm_open_lconf(nint* pcm, string name, int stream, int mode, nint lconf);

        [LibraryImport(Library)]
        public static partial int snd_pcm_close(nint pcm);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_malloc(nint* ptr);

        [LibraryImport(Library)]
        public static partial void snd_pcm_hw_params_free(nint obj);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_any(AlsaPcmHandle pcm, nint @params);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_set_access(AlsaPcmHandle pcm, nint @params, int access);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_test_format(AlsaPcmHandle pcm, nint @params, int format);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_set_format(AlsaPcmHandle pcm, nint @params, int format);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_set_channels_near(AlsaPcmHandle pcm, nint @params, uint* val);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_set_rate_near(AlsaPcmHandle pcm, nint @params, uint* val, int* dir);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_set_period_size_near(AlsaPcmHandle pcm, nint @params, nuint* val, int* dir);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params_set_buffer_size_near(AlsaPcmHandle pcm, nint @params, nuint* val);

        [LibraryImport(Library)]
        public static partial int snd_pcm_hw_params(AlsaPcmHandle pcm, nint @params);

        [LibraryImport(Library)]
        public static partial nint snd_pcm_readi(AlsaPcmHandle pcm, void* buffer, nuint size);

        [LibraryImport(Library)]
        public static partial nint snd_pcm_avail_update(AlsaPcmHandle pcm);

        [LibraryImport(Library)]
        public static partial nint snd_pcm_writei(AlsaPcmHandle pcm, void* buffer, nuint size);

        [LibraryImport(Library)]
        public static partial int snd_pcm_drain(AlsaPcmHandle pcm);

        [LibraryImport(Library)]
        public static partial int snd_pcm_recover(AlsaPcmHandle pcm, int err, int silent);

        [LibraryImport(Library)]
        public static partial byte* snd_strerror(int errnum);

        [LibraryImport(Library)]
        public static partial int snd_config_top(nint* config);

        [LibraryImport(Library)]
        public static partial int snd_config_load(nint config, nint input);

        [LibraryImport(Library)]
        public static partial int snd_config_delete(nint config);

        [LibraryImport(Library)]
        public static partial int snd_input_buffer_open(nint* inputp, byte* buffer, nint size);

        [LibraryImport(Library)]
        public static partial int snd_input_close(nint input);
    }
}
