using System.Globalization;

namespace VoiceHub.Core.Audio;

/// <summary>Writes 16 kHz mono 16-bit WAV files (NAudio.Core's writer; samples are clipped to 16 bits here).</summary>
public static class WavWriter
{
    public static void Write(string path, ReadOnlySpan<float> samples, int sampleRate = AudioFile.SampleRate)
    {
        var pcm = Speech.Pcm.ToInt16(samples);
        using var writer = new NAudio.Wave.WaveFileWriter(path, new NAudio.Wave.WaveFormat(sampleRate, 16, 1));
        writer.WriteSamples(pcm, 0, pcm.Length);
    }

    internal static string Seconds(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
