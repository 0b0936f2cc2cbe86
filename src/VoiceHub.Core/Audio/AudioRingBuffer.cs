namespace VoiceHub.Core.Audio;

/// <summary>
/// The last few seconds of audio, in a fixed array: writing copies in and never allocates, and
/// any stretch still held can be copied out by time, which is how the command after a wake word
/// (and the wake word itself, for verification) is taken without clipping its start.
/// </summary>
public sealed class AudioRingBuffer
{
    private readonly float[] _samples;
    private long _written;

    public AudioRingBuffer(TimeSpan capacity) => _samples = new float[(int)(capacity.TotalSeconds * AudioFile.SampleRate)];

    public TimeSpan Capacity => TimeSpan.FromSeconds(_samples.Length / (double)AudioFile.SampleRate);

    /// <summary>Time of the end of the last sample written (since the stream began).</summary>
    public TimeSpan Now => AudioFile.Time(_written);

    /// <summary>The earliest time still held.</summary>
    public TimeSpan Oldest => AudioFile.Time(Math.Max(0, _written - _samples.Length));

    /// <summary>Starts over, empty, with the next sample written at <paramref name="at"/> (a new stream, or a gap in one).</summary>
    public void Restart(TimeSpan at = default)
    {
        Array.Clear(_samples);
        _written = at.Ticks / (TimeSpan.TicksPerSecond / AudioFile.SampleRate);
    }

    public void Write(ReadOnlySpan<float> block)
    {
        if (block.Length > _samples.Length)
        {
            _written += block.Length - _samples.Length; // only the newest capacity's worth is kept
            block = block[^_samples.Length..];
        }

        var position = (int)(_written % _samples.Length);
        var first = Math.Min(block.Length, _samples.Length - position);
        block[..first].CopyTo(_samples.AsSpan(position));
        block[first..].CopyTo(_samples);
        _written += block.Length;
    }

    /// <summary>Copies the audio from <paramref name="from"/> to now (clamped to what is held) into a new array.</summary>
    public float[] CopySince(TimeSpan from)
    {
        var start = Math.Min(_written, Math.Max(from.Ticks / (TimeSpan.TicksPerSecond / AudioFile.SampleRate), Math.Max(0, _written - _samples.Length)));
        var count = (int)Math.Max(0, _written - start);
        var result = new float[count];
        CopyTo(start, result);
        return result;
    }

    /// <summary>Copies <paramref name="destination"/>.Length samples starting at absolute sample <paramref name="start"/>.</summary>
    public void CopyTo(long start, Span<float> destination)
    {
        if (start < _written - _samples.Length || start + destination.Length > _written)
        {
            throw new ArgumentOutOfRangeException(nameof(start), "that audio is no longer (or not yet) in the buffer");
        }

        var position = (int)(start % _samples.Length);
        var first = Math.Min(destination.Length, _samples.Length - position);
        _samples.AsSpan(position, first).CopyTo(destination);
        _samples.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
    }
}
