using System.Globalization;

namespace VoiceHub.Core.Audio;

/// <summary>Where utterances are kept for debugging (section <c>audio:debug_recording</c>).</summary>
public sealed class DebugRecordingOptions
{
    /// <summary>Folder for the WAVs; empty keeps nothing.</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>Oldest recordings are deleted beyond this many megabytes.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100000)]
    public int MaxMegabytes { get; set; } = 200;
}

/// <summary>
/// Saves utterances as 16 kHz mono WAVs named by time and outcome, deleting the oldest when the
/// folder outgrows its budget, so a debug recording left on can never fill the SD card.
/// </summary>
public sealed class DebugRecorder(DebugRecordingOptions options, TimeProvider clock)
{
    public bool Enabled => options.Directory.Length > 0;

    public string? Save(ReadOnlySpan<float> samples, string label)
    {
        if (!Enabled)
        {
            return null;
        }

        System.IO.Directory.CreateDirectory(options.Directory);
        var safe = new string([.. label.Select(c => char.IsLetterOrDigit(c) || c == '-' ? c : '_')]);
        var path = Path.Combine(options.Directory, $"{clock.GetUtcNow():yyyyMMdd-HHmmss-fff}-{safe}.wav");
        WavWriter.Write(path, samples);
        Prune();
        return path;
    }

    private void Prune()
    {
        var files = new DirectoryInfo(options.Directory).GetFiles("*.wav").OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal).ToList();
        var total = files.Sum(f => f.Length);
        var budget = (long)options.MaxMegabytes * 1024 * 1024;
        foreach (var file in files)
        {
            if (total <= budget)
            {
                break;
            }

            total -= file.Length;
            file.Delete();
        }
    }
}

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
