using VoiceHub.Core.Audio;

namespace VoiceHub.Tests.Support;

public static class Audio
{
    /// <summary>All samples of a 16 kHz mono WAV fixture.</summary>
    public static float[] ReadMono16k(string path)
    {
        using var reader = WavReader.Open(path);
        Assert.Equal(16000, reader.Format.SampleRate);
        Assert.Equal(1, reader.Format.Channels);
        var samples = new float[reader.FrameCount];
        var read = 0;
        while (read < samples.Length)
        {
            var n = reader.Read(samples.AsSpan(read));
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return samples[..read];
    }
}
