using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static VoiceHub.Native.Interop.Asound;

namespace VoiceHub.Native.Audio;

/// <summary>The capture device went away (unplugged, or its driver failed); reopen it later.</summary>
public sealed class AudioDeviceGoneException(string device, string reason) : IOException($"{device}: {reason}")
{
    public string Device { get; } = device;
}

/// <summary>What the device agreed to deliver.</summary>
public sealed record AlsaFormat(int SampleRate, int Channels, string SampleFormat, int BytesPerSample);

/// <summary>
/// An ALSA PCM stream through libasound. The format is negotiated with what the hardware offers
/// (16/32-bit integer or float, the nearest rate and channel count to what was asked); samples
/// come out as floats. Overruns are recovered with <c>snd_pcm_recover</c>; a device that
/// disappears raises <see cref="AudioDeviceGoneException"/>. Not thread-safe.
/// </summary>
public sealed unsafe class AlsaPcm : IDisposable
{
    // libasound prints configuration errors (no sound card...) straight to stderr; the binding
    // reports them itself, once, as exceptions with the device name.
    private static readonly Lazy<bool> s_quiet = new(() =>
    {
        _ = snd_lib_error_set_handler(&IgnoreError);
        return true;
    });

    [UnmanagedCallersOnly]
    private static void IgnoreError(byte* file, int line, byte* function, int error, byte* format)
    {
    }

    private static readonly (int Code, string Name, int Bytes)[] s_formats =
    [
        (SND_PCM_FORMAT_S16_LE, "S16_LE", 2), (SND_PCM_FORMAT_S32_LE, "S32_LE", 4), (SND_PCM_FORMAT_FLOAT_LE, "FLOAT_LE", 4), (SND_PCM_FORMAT_S24_LE, "S24_LE", 4),
    ];

    private readonly AlsaPcmHandle _pcm;
    private byte[] _buffer = [];

    private AlsaPcm(string device, AlsaPcmHandle pcm, AlsaFormat format, bool capture)
    {
        Device = device;
        _pcm = pcm;
        Format = format;
        IsCapture = capture;
    }

    public string Device { get; }

    public AlsaFormat Format { get; }

    public bool IsCapture { get; }

    /// <summary>Overruns (capture) or underruns (playback) recovered from so far.</summary>
    public long Recoveries { get; private set; }

    /// <summary>
    /// Opens a device ("default", "hw:1,0", "plughw:1"), or a PCM defined in <paramref name="configText"/>
    /// (an ALSA configuration used instead of the system one: how tests feed a capture from a file).
    /// </summary>
    public static AlsaPcm Open(string device, bool capture, int sampleRate, int channels, TimeSpan period, string? configText = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        nint pointer;
        int result;
        if (configText is null)
        {
            _ = s_quiet.Value;
            result = snd_pcm_open(&pointer, device, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK, 0);
        }
        else
        {
            var config = LoadConfig(configText);
            try
            {
                result = snd_pcm_open_lconf(&pointer, device, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK, 0, config);
            }
            finally
            {
                _ = snd_config_delete(config);
            }
        }

        if (result < 0)
        {
            throw new AudioDeviceGoneException(device, $"cannot open for {(capture ? "capture" : "playback")}: {Error(result)}");
        }

        var pcm = AlsaPcmHandle.Adopt(pointer);
        try
        {
            return new AlsaPcm(device, pcm, Negotiate(device, pcm, sampleRate, channels, period), capture);
        }
        catch
        {
            pcm.Dispose();
            throw;
        }
    }

    private static nint LoadConfig(string text)
    {
        nint config;
        nint input;
        Check("snd_config_top", snd_config_top(&config));
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        fixed (byte* b = bytes)
        {
            Check("snd_input_buffer_open", snd_input_buffer_open(&input, b, bytes.Length));
            try
            {
                Check("snd_config_load", snd_config_load(config, input));
            }
            finally
            {
                _ = snd_input_close(input);
            }
        }

        return config;
    }

    private static AlsaFormat Negotiate(string device, AlsaPcmHandle pcm, int sampleRate, int channels, TimeSpan period)
    {
        nint allocated;
        Check("snd_pcm_hw_params_malloc", snd_pcm_hw_params_malloc(&allocated));
        var parameters = allocated;
        try
        {
            Check("snd_pcm_hw_params_any", snd_pcm_hw_params_any(pcm, parameters));
            Check("snd_pcm_hw_params_set_access", snd_pcm_hw_params_set_access(pcm, parameters, SND_PCM_ACCESS_RW_INTERLEAVED));
            var chosen = s_formats.FirstOrDefault(f => snd_pcm_hw_params_test_format(pcm, parameters, f.Code) == 0);
            if (chosen.Name is null)
            {
                throw new AudioDeviceGoneException(device, "offers none of S16_LE, S32_LE, FLOAT_LE, S24_LE");
            }

            Check("snd_pcm_hw_params_set_format", snd_pcm_hw_params_set_format(pcm, parameters, chosen.Code));
            var actualChannels = (uint)channels;
            Check("snd_pcm_hw_params_set_channels_near", snd_pcm_hw_params_set_channels_near(pcm, parameters, &actualChannels));
            var actualRate = (uint)sampleRate;
            var direction = 0;
            Check("snd_pcm_hw_params_set_rate_near", snd_pcm_hw_params_set_rate_near(pcm, parameters, &actualRate, &direction));
            var periodFrames = (nuint)Math.Max(32, actualRate * period.TotalSeconds);
            Check("snd_pcm_hw_params_set_period_size_near", snd_pcm_hw_params_set_period_size_near(pcm, parameters, &periodFrames, &direction));
            var bufferFrames = periodFrames * 8;
            Check("snd_pcm_hw_params_set_buffer_size_near", snd_pcm_hw_params_set_buffer_size_near(pcm, parameters, &bufferFrames));
            Check("snd_pcm_hw_params", snd_pcm_hw_params(pcm, parameters));
            return new AlsaFormat((int)actualRate, (int)actualChannels, chosen.Name, chosen.Bytes);
        }
        finally
        {
            snd_pcm_hw_params_free(parameters);
        }
    }

    /// <summary>Reads up to <paramref name="frames"/> frames of interleaved floats; blocks until some are there.</summary>
    public int Read(Span<float> interleaved, int frames)
    {
        var bytes = frames * Format.Channels * Format.BytesPerSample;
        if (_buffer.Length < bytes)
        {
            _buffer = new byte[bytes];
        }

        while (true)
        {
            nint got;
            fixed (byte* b = _buffer)
            {
                got = snd_pcm_readi(_pcm, b, (nuint)frames);
            }

            if (got >= 0)
            {
                ToFloat(_buffer.AsSpan(0, (int)got * Format.Channels * Format.BytesPerSample), interleaved[..((int)got * Format.Channels)]);
                return (int)got;
            }

            Recover((int)got);
        }
    }

    /// <summary>
    /// Capture: frames the device holds beyond those read, so the last read ended this long before
    /// now (a reader that fell behind gets blocks captured earlier than it reads them); 0 when it cannot tell.
    /// </summary>
    public int BufferedFrames => snd_pcm_avail_update(_pcm) is var frames and > 0 ? (int)frames : 0;

    /// <summary>Writes interleaved 16-bit frames (playback), blocking until the device has taken them.</summary>
    public void Write(ReadOnlySpan<short> interleaved)
    {
        var frames = interleaved.Length / Format.Channels;
        var written = 0;
        while (written < frames)
        {
            nint result;
            fixed (short* s = interleaved[(written * Format.Channels)..])
            {
                result = snd_pcm_writei(_pcm, s, (nuint)(frames - written));
            }

            if (result >= 0)
            {
                written += (int)result;
            }
            else
            {
                Recover((int)result);
            }
        }
    }

    /// <summary>Waits for queued playback to finish.</summary>
    public void Drain() => _ = snd_pcm_drain(_pcm);

    private void Recover(int error)
    {
        // -EPIPE (overrun/underrun) and -ESTRPIPE (suspended) are recoverable; -ENODEV and -EBADFD mean the device is gone.
        if (error is -19 or -77 or -5)
        {
            throw new AudioDeviceGoneException(Device, Error(error));
        }

        if (snd_pcm_recover(_pcm, error, 1) < 0)
        {
            throw new AudioDeviceGoneException(Device, $"could not recover from {Error(error)}");
        }

        Recoveries++;
    }

    private void ToFloat(ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (Format.SampleFormat)
        {
            case "S16_LE":
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]) / 32768f;
                }

                break;
            case "S32_LE":
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]) / 2147483648f;
                }

                break;
            case "S24_LE":
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]) << 8) / 2147483648f;
                }

                break;
            default:
                for (var i = 0; i < destination.Length; i++)
                {
                    var value = BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]);
                    destination[i] = float.IsFinite(value) ? Math.Clamp(value, -1f, 1f) : 0f;
                }

                break;
        }
    }

    private static void Check(string function, int result)
    {
        if (result < 0)
        {
            throw new NativeEngineException("alsa", function, result, Error(result));
        }
    }

    public static string Error(int code) => Marshal.PtrToStringUTF8((nint)snd_strerror(code)) ?? $"error {code}";

    public void Dispose() => _pcm.Dispose();
}
