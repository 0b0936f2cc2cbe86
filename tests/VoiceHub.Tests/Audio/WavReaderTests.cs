using System.Buffers.Binary;
using VoiceHub.Core.Audio;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Audio;

public sealed class WavReaderTests
{
    /// <summary>A WAV with the given sample encoding; the samples are a 440 Hz tone at half scale.</summary>
    private static byte[] Wav(int rate, int channels, int bits, int tag, int frames, int? claimedDataBytes = null)
    {
        var bytesPerSample = bits / 8;
        var data = new byte[frames * channels * bytesPerSample];
        for (var i = 0; i < frames; i++)
        {
            var value = 0.5 * Math.Sin(2 * Math.PI * 440 * i / rate);
            for (var c = 0; c < channels; c++)
            {
                var span = data.AsSpan(((i * channels) + c) * bytesPerSample);
                switch (tag, bits)
                {
                    case (1, 8): span[0] = (byte)(128 + (value * 127)); break;
                    case (1, 16): BinaryPrimitives.WriteInt16LittleEndian(span, (short)(value * 32767)); break;
                    case (1, 24): var v24 = (int)(value * 8388607); span[0] = (byte)v24; span[1] = (byte)(v24 >> 8); span[2] = (byte)(v24 >> 16); break;
                    case (1, 32): BinaryPrimitives.WriteInt32LittleEndian(span, (int)(value * int.MaxValue)); break;
                    case (3, 32): BinaryPrimitives.WriteSingleLittleEndian(span, (float)value); break;
                    case (3, 64): BinaryPrimitives.WriteDoubleLittleEndian(span, value); break;
                    default: break;
                }
            }
        }

        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write("RIFF"u8);
        writer.Write(36 + data.Length);
        writer.Write("WAVEfmt "u8);
        writer.Write(16);
        writer.Write((short)tag);
        writer.Write((short)channels);
        writer.Write(rate);
        writer.Write(rate * channels * bytesPerSample);
        writer.Write((short)(channels * bytesPerSample));
        writer.Write((short)bits);
        writer.Write("data"u8);
        writer.Write(claimedDataBytes ?? data.Length);
        writer.Write(data);
        return stream.ToArray();
    }

    private static string Save(TempDirectory temp, string name, byte[] bytes)
    {
        var path = temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [Trait("needs", "native")] // other rates go through libsoxr
    [InlineData(16000, 1, 8, 1)]
    [InlineData(16000, 1, 16, 1)]
    [InlineData(44100, 2, 16, 1)]
    [InlineData(48000, 2, 24, 1)]
    [InlineData(22050, 1, 32, 1)]
    [InlineData(8000, 1, 32, 3)]
    [InlineData(96000, 2, 64, 3)]
    public void Every_supported_encoding_reads_back_as_a_16k_mono_tone(int rate, int channels, int bits, int tag)
    {
        using var temp = new TempDirectory();
        var path = Save(temp, "tone.wav", Wav(rate, channels, bits, tag, rate));

        var samples = AudioFile.ReadMono16k(path);

        Assert.InRange(samples.Length, 15900, 16100); // one second at 16 kHz
        var rms = Math.Sqrt(samples.Skip(2000).Take(12000).Average(s => s * (double)s));
        Assert.InRange(rms, 0.5 / Math.Sqrt(2) * 0.95, 0.5 / Math.Sqrt(2) * 1.05);
    }

    [Fact]
    public void A_data_chunk_claiming_more_than_the_file_holds_is_read_up_to_the_last_whole_frame()
    {
        using var temp = new TempDirectory();
        var bytes = Wav(16000, 1, 16, 1, 16000, claimedDataBytes: 10_000_000);
        var path = Save(temp, "cut.wav", bytes[..^101]); // a recording cut short mid-sample

        using var reader = WavReader.Open(path);

        Assert.True(reader.HeaderSizeWasWrong);
        Assert.Equal((16000 * 2 - 101) / 2, reader.FrameCount);
    }

    [Fact]
    public void Nan_and_infinite_float_samples_become_silence_and_are_counted()
    {
        using var temp = new TempDirectory();
        var bytes = Wav(16000, 1, 32, 3, 100);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(44 + 40), float.NaN);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(44 + 80), float.PositiveInfinity);
        var path = Save(temp, "nan.wav", bytes);

        using var reader = WavReader.Open(path);
        var samples = new float[100];
        reader.Read(samples);

        Assert.Equal(0f, samples[10]);
        Assert.Equal(0f, samples[20]);
        Assert.Equal(2, reader.NonFiniteSamples);
    }

    [Theory]
    [InlineData("empty", "empty file (0 bytes)")]
    [InlineData("short", "truncated: 7 bytes is too short for a WAV header")]
    [InlineData("text", "not a WAV file (no RIFF/WAVE header)")]
    [InlineData("adpcm", "unsupported encoding (format tag 0x0002, Microsoft ADPCM); convert with: sox IN.wav -e signed-integer -b 16 OUT.wav")]
    [InlineData("mulaw", "unsupported encoding (format tag 0x0007, mu-law)")]
    [InlineData("nodata", "no data chunk (truncated?)")]
    [InlineData("emptydata", "no audio samples (empty data chunk)")]
    [InlineData("12bit", "12-bit PCM samples are not supported")]
    [InlineData("missing", "file not found")]
    public void Unusable_files_are_one_clear_error_naming_the_file(string kind, string problem)
    {
        using var temp = new TempDirectory();
        var path = temp.File(kind + ".wav");
        switch (kind)
        {
            case "empty": File.WriteAllBytes(path, []); break;
            case "short": File.WriteAllBytes(path, "RIFF123"u8.ToArray()); break;
            case "text": File.WriteAllText(path, "this is not audio at all, just some text"); break;
            case "adpcm": File.WriteAllBytes(path, Wav(16000, 1, 16, 2, 10)); break;
            case "mulaw": File.WriteAllBytes(path, Wav(16000, 1, 16, 7, 10)); break;
            case "nodata": File.WriteAllBytes(path, Wav(16000, 1, 16, 1, 10)[..36]); break;
            case "emptydata": File.WriteAllBytes(path, Wav(16000, 1, 16, 1, 0)); break;
            case "12bit": var b = Wav(16000, 1, 16, 1, 10); BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(34), 12); BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(32), 1); File.WriteAllBytes(path, b); break;
            default: break;
        }

        var error = Assert.Throws<AudioFormatException>(() => WavReader.Open(path));

        Assert.Equal(path, error.Path);
        Assert.StartsWith(problem, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_streams_as_continuous_20_ms_blocks_with_timestamps()
    {
        var blocks = new List<(int Length, TimeSpan Start)>();
        await foreach (var block in new WavFileSource(TestPaths.Fixture("wake-computer.wav"), TimeSpan.FromMilliseconds(20), realTime: false).ReadAsync(CancellationToken.None))
        {
            blocks.Add((block.Samples.Length, block.Start));
        }

        Assert.All(blocks.SkipLast(1), b => Assert.Equal(320, b.Length));
        for (var i = 1; i < blocks.Count; i++)
        {
            Assert.Equal(blocks[i - 1].Start + TimeSpan.FromMilliseconds(20), blocks[i].Start);
        }

        Assert.Equal(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")).Length, blocks.Sum(b => b.Length));
    }
}
