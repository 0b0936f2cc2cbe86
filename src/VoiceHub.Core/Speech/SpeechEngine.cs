namespace VoiceHub.Core.Speech;

/// <summary>What a speech engine heard in one utterance.</summary>
public sealed record Transcript(
    string Text,
    string Engine,
    double Confidence,
    string? Rejection,
    TimeSpan Elapsed,
    IReadOnlyList<string> Alternatives)
{
    /// <summary>The engine's own measure behind <see cref="Confidence"/> (pocketsphinx: per-frame score against the phone loop).</summary>
    public double? Score { get; init; }

    /// <summary>The engine heard no usable command (silence, noise, other speech, low confidence).</summary>
    public bool IsRejected => Rejection is not null;

    public static Transcript Rejected(string engine, string reason, TimeSpan elapsed, double confidence = 0) =>
        new(string.Empty, engine, confidence, reason, elapsed, []);
}

/// <summary>
/// Speech to text for one utterance of 16 kHz mono audio in [-1, 1]. Closed-set engines only
/// ever return sentences of their grammar; open engines return free text. Implementations keep
/// one native decoder each and serialize calls on it.
/// </summary>
public interface ISpeechEngine : IDisposable
{
    string Name { get; }

    bool IsClosedSet { get; }

    Task<Transcript> TranscribeAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken = default);
}

/// <summary>An utterance decoded while it is spoken: the result is nearly ready when the speaker stops.</summary>
public interface IUtteranceDecoding : IDisposable
{
    /// <summary>Queues audio for decoding (returns at once; decoding runs on the engine's thread).</summary>
    void Feed(ReadOnlySpan<float> samples);

    /// <summary>Ends the utterance and returns what was heard.</summary>
    Task<Transcript> FinishAsync(CancellationToken cancellationToken = default);

    /// <summary>The best hypothesis of the audio fed so far, without ending the utterance (null when the engine has none).</summary>
    Task<string?> HypothesisSoFarAsync(CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);
}

/// <summary>An engine that can decode as audio arrives.</summary>
public interface IStreamingSpeechEngine : ISpeechEngine
{
    /// <summary>Begins an utterance; one stream at a time per engine.</summary>
    IUtteranceDecoding StartDecoding();
}

public static class Pcm
{
    /// <summary>Float samples in [-1, 1] as 16-bit PCM, clipped.</summary>
    public static short[] ToInt16(ReadOnlySpan<float> samples)
    {
        var pcm = new short[samples.Length];
        for (var i = 0; i < samples.Length; i++)
        {
            var s = samples[i] * 32767f;
            pcm[i] = s >= 32767f ? short.MaxValue : s <= -32768f ? short.MinValue : float.IsNaN(s) ? (short)0 : (short)s;
        }

        return pcm;
    }
}
