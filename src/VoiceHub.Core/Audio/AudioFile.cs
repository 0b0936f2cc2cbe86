namespace VoiceHub.Core.Audio;

/// <summary>Whole-file helpers for the verbs that take one WAV per utterance.</summary>
public static class AudioFile
{
    public const int SampleRate = 16000;

    /// <summary>The exact time of a sample position (a sample is 625 ticks: no rounding drift).</summary>
    public static TimeSpan Time(long samples) => TimeSpan.FromTicks(samples * (TimeSpan.TicksPerSecond / SampleRate));

    /// <summary>A WAV file as 16 kHz mono samples: channels averaged, other rates resampled (libsoxr unless told).</summary>
    /// <param name="warn">Told when the file is read despite a problem (a truncated recording).</param>
    public static float[] ReadMono16k(string path, Action<string>? warn = null, ResamplerKind resampler = ResamplerKind.Soxr)
    {
        using var reader = WavReader.Open(path);
        return ReadMono16k(reader, warn, resampler);
    }

    /// <summary>A WAV stream (named for errors, e.g. "espeak-ng output") as 16 kHz mono samples.</summary>
    public static float[] ReadMono16k(string name, Stream stream)
    {
        using var reader = WavReader.Open(name, stream);
        return ReadMono16k(reader, warn: null, ResamplerKind.Soxr);
    }

    private static float[] ReadMono16k(WavReader reader, Action<string>? warn, ResamplerKind resampler)
    {
        if (reader.Warning is { } warning)
        {
            warn?.Invoke(warning);
        }

        var channels = reader.Format.Channels;
        var block = new float[4096 * channels];
        var mono = new float[4096];
        using var converter = reader.Format.SampleRate == SampleRate ? null : Resamplers.Create(resampler, reader.Format.SampleRate, SampleRate);
        var resampled = new float[converter?.MaxOutputFor(mono.Length) ?? 0];
        var result = new List<float>((int)Math.Min(reader.FrameCount * SampleRate / reader.Format.SampleRate + 64, int.MaxValue));
        int read;
        while ((read = reader.Read(block)) > 0)
        {
            var frames = read / channels;
            DownMix(block.AsSpan(0, read), channels, mono.AsSpan(0, frames));
            if (converter is null)
            {
                result.AddRange(mono.AsSpan(0, frames));
            }
            else
            {
                result.AddRange(resampled.AsSpan(0, converter.Process(mono.AsSpan(0, frames), resampled)));
            }
        }

        if (converter is not null)
        {
            int tail;
            while ((tail = converter.Flush(resampled)) > 0)
            {
                result.AddRange(resampled.AsSpan(0, tail));
            }
        }

        return [.. result];
    }

    /// <summary>Averages interleaved channels into one.</summary>
    public static void DownMix(ReadOnlySpan<float> interleaved, int channels, Span<float> mono)
    {
        if (channels == 1)
        {
            interleaved.CopyTo(mono);
            return;
        }

        for (var frame = 0; frame < mono.Length; frame++)
        {
            var sum = 0f;
            for (var c = 0; c < channels; c++)
            {
                sum += interleaved[(frame * channels) + c];
            }

            mono[frame] = sum / channels;
        }
    }

    /// <summary>A recording without its leading and trailing silence (20 ms blocks under a tenth of its peak), so what it says can be placed in a stream.</summary>
    public static float[] Voiced(float[] recording)
    {
        ArgumentNullException.ThrowIfNull(recording);
        const int block = 320;
        var peak = 0f;
        foreach (var sample in recording)
        {
            peak = Math.Max(peak, Math.Abs(sample));
        }

        bool Loud(int b)
        {
            foreach (var sample in recording.AsSpan(b * block, block))
            {
                if (Math.Abs(sample) > peak * 0.1f)
                {
                    return true;
                }
            }

            return false;
        }

        var blocks = recording.Length / block;
        var first = Enumerable.Range(0, blocks).FirstOrDefault(Loud, -1);
        if (first < 0)
        {
            return recording;
        }

        var last = Enumerable.Range(0, blocks).Last(Loud);
        return recording[(first * block)..((last + 1) * block)];
    }
}
