using System.Buffers.Binary;

namespace VoiceHub.Core.Audio;

/// <summary>An audio file VoiceHub cannot use; names the file and what is wrong with it.</summary>
public sealed class AudioFormatException(string path, string problem) : Exception(Native.PrintableText.Escape($"{path}: {problem}"))
{
    public string Path { get; } = path;

    public string Problem { get; } = problem;
}

public enum WavEncoding
{
    Pcm,
    IeeeFloat,
}

/// <summary>The layout of a WAV file's samples.</summary>
public sealed record WavFormat(int SampleRate, int Channels, int BitsPerSample, WavEncoding Encoding)
{
    public int BytesPerFrame => Channels * BitsPerSample / 8;
}

/// <summary>
/// Streams samples out of a WAV file (PCM 8/16/24/32-bit or IEEE float 32/64-bit, any rate, any
/// channel count up to 8) without loading it whole. Headers are checked against the file: a data
/// chunk that claims more bytes than the file has (a recording cut short, or a streamed WAV whose
/// sizes were never filled in) is read up to the last whole frame, and NaN or infinite float
/// samples are replaced by silence, counted in <see cref="NonFiniteSamples"/>.
/// </summary>
public sealed class WavReader : IDisposable
{
    private const int FormatPcm = 1;
    private const int FormatFloat = 3;
    private const int FormatExtensible = 0xFFFE;
    private readonly Stream _stream;
    private readonly long _dataEnd;
    private byte[] _buffer = new byte[8192];

    private WavReader(string path, Stream stream, WavFormat format, long dataStart, long dataBytes, bool headerWasWrong)
    {
        Path = path;
        _stream = stream;
        Format = format;
        _dataEnd = dataStart + dataBytes;
        FrameCount = dataBytes / format.BytesPerFrame;
        HeaderSizeWasWrong = headerWasWrong;
        _stream.Position = dataStart;
    }

    public string Path { get; }

    public WavFormat Format { get; }

    /// <summary>Frames (one sample per channel) in the file, as far as the file really goes.</summary>
    public long FrameCount { get; }

    public TimeSpan Duration => TimeSpan.FromSeconds((double)FrameCount / Format.SampleRate);

    /// <summary>The data chunk's size in the header disagreed with the file; the file was trusted.</summary>
    public bool HeaderSizeWasWrong { get; }

    public long NonFiniteSamples { get; private set; }

    /// <summary>What a user should hear about a file that was read anyway (cut short), or null.</summary>
    public string? Warning => HeaderSizeWasWrong
        ? $"{Path}: the header promises more audio than the file holds; read the {Duration.TotalSeconds:0.00} s that are there (was the recording cut short?)"
        : null;

    public static WavReader Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            throw new AudioFormatException(path, "is a directory, not a WAV file");
        }

        Stream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new AudioFormatException(path, "file not found");
        }
        catch (UnauthorizedAccessException)
        {
            throw new AudioFormatException(path, "permission denied");
        }

        try
        {
            return Open(path, stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Most audio a pipe or FIFO may carry: it is held in memory (about an hour of 16 kHz 16-bit stereo).</summary>
    public const long MaxUnseekableBytes = 256L << 20;

    /// <summary>Reads a WAV from any stream (the reader owns it afterwards); a pipe is read into memory first.</summary>
    public static WavReader Open(string name, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek)
        {
            stream = ReadUnseekable(name, stream);
        }

        var length = stream.Length;
        if (length == 0)
        {
            throw new AudioFormatException(name, "empty file (0 bytes)");
        }

        Span<byte> header = stackalloc byte[12];
        if (length < 12 || stream.ReadAtLeast(header, 12, throwOnEndOfStream: false) < 12)
        {
            throw new AudioFormatException(name, $"truncated: {length} bytes is too short for a WAV header");
        }

        if (!header[..4].SequenceEqual("RIFF"u8) || !header[8..12].SequenceEqual("WAVE"u8))
        {
            throw new AudioFormatException(name, header[..4].SequenceEqual("RF64"u8)
                ? "RF64 (64-bit WAV) is not supported; convert with: sox IN.wav -b 16 OUT.wav"
                : "not a WAV file (no RIFF/WAVE header)");
        }

        WavFormat? format = null;
        Span<byte> chunk = stackalloc byte[8];
        while (stream.Position + 8 <= length)
        {
            stream.ReadExactly(chunk);
            var id = System.Text.Encoding.ASCII.GetString(chunk[..4]);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            var start = stream.Position;
            if (id == "fmt ")
            {
                format = ReadFormat(name, stream, size, length - start);
            }
            else if (id == "data")
            {
                if (format is null)
                {
                    throw new AudioFormatException(name, "the data chunk comes before any fmt chunk");
                }

                var available = length - start;
                var wrong = size > available || size == 0 || size == uint.MaxValue;
                var bytes = wrong ? available : size;
                bytes -= bytes % format.BytesPerFrame;
                if (bytes == 0)
                {
                    throw new AudioFormatException(name, "no audio samples (empty data chunk)");
                }

                return new WavReader(name, stream, format, start, bytes, wrong && size != 0 && size != uint.MaxValue);
            }

            if (size > length - start)
            {
                break;
            }

            stream.Position = start + size + (size & 1);
        }

        throw new AudioFormatException(name, format is null ? "no fmt chunk (truncated or not a WAV file)" : "no data chunk (truncated?)");
    }

    /// <summary>
    /// A pipe's bytes, up to <see cref="MaxUnseekableBytes"/>. The chunk walk needs to seek, and a WAV
    /// streamed through a pipe has placeholder sizes that only the real length corrects.
    /// </summary>
    private static MemoryStream ReadUnseekable(string name, Stream pipe)
    {
        using (pipe)
        {
            var memory = new MemoryStream();
            var buffer = new byte[1 << 16];
            int read;
            while ((read = pipe.Read(buffer)) > 0)
            {
                if (memory.Length + read > MaxUnseekableBytes)
                {
                    throw new AudioFormatException(name, $"more than {MaxUnseekableBytes >> 20} MiB through a pipe; give a file instead");
                }

                memory.Write(buffer, 0, read);
            }

            memory.Position = 0;
            return memory;
        }
    }

    private static WavFormat ReadFormat(string name, Stream stream, long size, long available)
    {
        if (size < 16 || size > available)
        {
            throw new AudioFormatException(name, $"fmt chunk of {size} bytes is {(size < 16 ? "too short" : "cut off")}");
        }

        Span<byte> fmt = stackalloc byte[40];
        var read = (int)Math.Min(size, 40);
        stream.ReadExactly(fmt[..read]);
        int tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        var rate = BinaryPrimitives.ReadInt32LittleEndian(fmt[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        if (tag == FormatExtensible && read >= 26)
        {
            tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]); // first two bytes of the sub-format GUID
        }

        var encoding = tag switch
        {
            FormatPcm => WavEncoding.Pcm,
            FormatFloat => WavEncoding.IeeeFloat,
            _ => throw new AudioFormatException(name, $"unsupported encoding (format tag 0x{tag:x4}{TagName(tag)}); convert with: sox IN.wav -e signed-integer -b 16 OUT.wav"),
        };
        if (channels is < 1 or > 8)
        {
            throw new AudioFormatException(name, $"{channels} channels (1 to 8 supported)");
        }

        if (rate is < 4000 or > 384000)
        {
            throw new AudioFormatException(name, $"sample rate {rate} Hz is outside 4 to 384 kHz");
        }

        var bitsValid = encoding == WavEncoding.Pcm ? bits is 8 or 16 or 24 or 32 : bits is 32 or 64;
        if (!bitsValid)
        {
            throw new AudioFormatException(name, $"{bits}-bit {(encoding == WavEncoding.Pcm ? "PCM" : "float")} samples are not supported");
        }

        if (blockAlign != channels * bits / 8)
        {
            throw new AudioFormatException(name, $"block align {blockAlign} does not match {channels} channels of {bits} bits");
        }

        stream.Position += size - read;
        return new WavFormat(rate, channels, bits, encoding);
    }

    private static string TagName(int tag) => tag switch
    {
        2 => ", Microsoft ADPCM",
        6 => ", A-law",
        7 => ", mu-law",
        0x11 => ", IMA ADPCM",
        0x55 => ", MP3",
        _ => string.Empty,
    };

    /// <summary>
    /// Reads interleaved samples as floats in [-1, 1]. Returns the number of samples written (a
    /// multiple of the channel count); 0 at the end of the data.
    /// </summary>
    public int Read(Span<float> destination)
    {
        var frameBytes = Format.BytesPerFrame;
        var frames = Math.Min(destination.Length / Format.Channels, (int)Math.Min(int.MaxValue, (_dataEnd - _stream.Position) / frameBytes));
        if (frames <= 0)
        {
            return 0;
        }

        var bytes = frames * frameBytes;
        if (_buffer.Length < bytes)
        {
            _buffer = new byte[bytes];
        }

        var got = _stream.ReadAtLeast(_buffer.AsSpan(0, bytes), bytes, throwOnEndOfStream: false);
        var samples = got / frameBytes * Format.Channels;
        Convert(_buffer.AsSpan(0, got - (got % frameBytes)), destination[..samples]);
        return samples;
    }

    private void Convert(ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (Format.Encoding, Format.BitsPerSample)
        {
            case (WavEncoding.Pcm, 8):
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (source[i] - 128) / 128f;
                }

                break;
            case (WavEncoding.Pcm, 16):
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]) / 32768f;
                }

                break;
            case (WavEncoding.Pcm, 24):
                for (var i = 0; i < destination.Length; i++)
                {
                    var b = source.Slice(3 * i, 3);
                    destination[i] = ((b[0] << 8) | (b[1] << 16) | (b[2] << 24)) / 2147483648f;
                }

                break;
            case (WavEncoding.Pcm, 32):
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]) / 2147483648f;
                }

                break;
            case (WavEncoding.IeeeFloat, 32):
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = Sanitize(BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]));
                }

                break;
            default:
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = Sanitize((float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]));
                }

                break;
        }
    }

    private float Sanitize(float sample)
    {
        if (!float.IsFinite(sample))
        {
            NonFiniteSamples++;
            return 0f;
        }

        return Math.Clamp(sample, -1f, 1f);
    }

    public void Dispose() => _stream.Dispose();
}
