using VoiceHub.Core.Audio;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>
/// Streaming wake detection with openWakeWord-style features and one scorer per phrase: every
/// 80 ms the last 16 embeddings are scored; a score at or above the phrase's threshold is a
/// detection, then that phrase is not reported again for the refractory time. While the score
/// still rises after a fresh crossing of the threshold, the detection waits for its peak (at most
/// <see cref="PeakWaitChunks"/> chunks): a model can cross before the phrase's last sound, and
/// the command is taken to start after the detection. With no refractory time (under
/// <see cref="VerifiedWakeDetector"/>), every chunk over the threshold from the peak on is
/// reported (checks may turn one down and take the next). A detection still waiting when the
/// stream is reset or has a gap is dropped with the stream's features. As the reference, the first five
/// scores of a stream count as zero (the window still holds the noise it was started with). The
/// features are computed once for all phrases.
/// Not thread-safe: one audio loop owns it.
/// </summary>
public sealed class NeuralWakeDetector : IWakeDetector
{
    private const int WarmUpChunks = 5;
    private static readonly TimeSpan s_chunk = TimeSpan.FromSeconds(WakeFeatureModels.ChunkSamples / (double)AudioFile.SampleRate);
    private static readonly TimeSpan s_gapTolerance = TimeSpan.FromMilliseconds(5);

    private readonly WakeFeatureModels _features;
    private readonly WakeFeatureWindow _stream;
    private readonly (IWakeScorer Scorer, double Threshold)[] _scorers;
    private readonly TimeSpan?[] _last;
    private readonly (TimeSpan End, float Score, int ChunksWaited)?[] _rising;
    private readonly bool[] _overLastChunk;
    private readonly TimeSpan _refractory;
    private readonly List<WakeDetection> _found = [];
    private readonly Action<WakeFeatureWindow> _onChunk;
    private TimeSpan _streamStart;
    private TimeSpan _expected;
    private bool _fresh = true;

    public NeuralWakeDetector(WakeFeatureModels features, IWakeScorer scorer, double threshold, TimeSpan refractory)
        : this(features, [(scorer, threshold)], refractory)
    {
    }

    public NeuralWakeDetector(WakeFeatureModels features, IReadOnlyList<(IWakeScorer Scorer, double Threshold)> scorers, TimeSpan refractory)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(scorers);
        if (scorers.Count == 0)
        {
            throw new ArgumentException("no wake scorer", nameof(scorers));
        }

        _features = features;
        _stream = features.OpenStream();
        _scorers = [.. scorers];
        _last = new TimeSpan?[_scorers.Length];
        _rising = new (TimeSpan, float, int)?[_scorers.Length];
        _overLastChunk = new bool[_scorers.Length];
        _refractory = refractory;
        _onChunk = OnChunk;
    }

    public IReadOnlyList<string> Phrases => [.. _scorers.Select(s => s.Scorer.Phrase)];

    /// <summary>How many chunks a detection may wait for a still rising score (2: up to 160 ms).</summary>
    public int PeakWaitChunks { get; init; } = 2;

    /// <summary>Dispose the feature models with the detector (they were loaded for it alone).</summary>
    public bool OwnsFeatures { get; init; }

    /// <summary>The highest score of the first phrase since the last <see cref="Reset"/> (for checks and evaluation).</summary>
    public double MaxScore { get; private set; }

    /// <summary>Every score of the first phrase with the end of its chunk, when asked for (evaluation sweeps thresholds over them).</summary>
    public List<(TimeSpan End, float Score)>? Scores { get; init; }

    public void Reset()
    {
        _stream.Reset();
        Array.Clear(_last);
        Array.Clear(_rising);
        Array.Clear(_overLastChunk);
        MaxScore = 0;
        _fresh = true;
        Scores?.Clear();
    }

    public IReadOnlyList<WakeDetection> Process(AudioBlock block)
    {
        if (_fresh || (block.Start - _expected).Duration() > s_gapTolerance)
        {
            _stream.Reset(); // a gap (the pipeline was busy with a command): start afresh there
            Array.Clear(_rising);
            Array.Clear(_overLastChunk);
            _streamStart = block.Start;
            _fresh = false;
        }

        _expected = block.End;
        _found.Clear();
        _stream.Push(block.Samples.Span, _onChunk);
        return _found.Count == 0 ? [] : [.. _found];
    }

    private void OnChunk(WakeFeatureWindow stream)
    {
        var end = _streamStart + (s_chunk * stream.Chunks);
        for (var i = 0; i < _scorers.Length; i++)
        {
            var (scorer, threshold) = _scorers[i];
            var score = stream.Chunks <= WarmUpChunks ? 0f : scorer.Score(stream.Window);
            if (i == 0)
            {
                Scores?.Add((end, score));
                MaxScore = Math.Max(MaxScore, score);
            }

            var over = score >= threshold;
            var crossing = over && !_overLastChunk[i];
            _overLastChunk[i] = over;
            if (_rising[i] is { } rising)
            {
                _rising[i] = null;
                if (over && score > rising.Score)
                {
                    if (rising.ChunksWaited < PeakWaitChunks)
                    {
                        _rising[i] = (end, score, rising.ChunksWaited + 1);
                        continue;
                    }

                    Report(i, end, score); // waited long enough
                    continue;
                }

                Report(i, rising.End, rising.Score); // the peak, a chunk late
                if (over && end - rising.End >= _refractory)
                {
                    Report(i, end, score);
                }

                continue;
            }

            if (!over || (_last[i] is { } last && end - last < _refractory))
            {
                continue;
            }

            if (crossing && PeakWaitChunks > 0)
            {
                _rising[i] = (end, score, 1); // wait to see whether the score still rises
                continue;
            }

            Report(i, end, score);
        }
    }

    private void Report(int scorer, TimeSpan end, float score)
    {
        _last[scorer] = end;
        // The window the phrase was heard in: the 16 embeddings cover 1.28 s.
        var start = end - (s_chunk * WakeFeatureModels.WindowEmbeddings);
        _found.Add(new WakeDetection(_scorers[scorer].Scorer.Phrase, start < _streamStart ? _streamStart : start, end, score, null));
    }

    public void Dispose()
    {
        foreach (var (scorer, _) in _scorers)
        {
            scorer.Dispose();
        }

        if (OwnsFeatures)
        {
            _features.Dispose();
        }
    }
}

/// <summary>
/// A wake model's detections checked over the 1.5 s before each, by judges trained on other data
/// (two rarely agree on a false alarm): Silero VAD must hear at least <see cref="MinimumSpeech"/>
/// of speech (clatter, music and hum that fool the model are not speech), and the phrase verifier
/// (pocketsphinx: the phrase against free phones) must prefer the phrase by its threshold. The
/// checks run only on candidates, so they cost next to nothing. The inner detector reports every
/// chunk over its threshold from the score's peak on (no refractory time of its own): a candidate
/// turned down is looked at again a chunk later, with more of the phrase heard; the refractory time
/// starts at an accepted detection. Not thread-safe: one audio loop owns it.
/// </summary>
public sealed class VerifiedWakeDetector(IWakeDetector inner, SileroVad? speech, PhraseVerifier? verifier, double verifyThreshold, TimeSpan refractory) : IWakeDetector
{
    private static readonly TimeSpan s_window = TimeSpan.FromSeconds(1.5);
    private readonly AudioRingBuffer _history = new(TimeSpan.FromSeconds(4));
    private readonly Dictionary<string, TimeSpan> _lastAccepted = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Phrases => inner.Phrases;

    /// <summary>Speech Silero VAD must find in the window (a wake phrase takes at least this long).</summary>
    public TimeSpan MinimumSpeech { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Candidates a check turned down.</summary>
    public int RejectedCandidates { get; private set; }

    public IReadOnlyList<WakeDetection> Process(AudioBlock block)
    {
        if ((block.Start - _history.Now).Duration() > TimeSpan.FromMilliseconds(5))
        {
            _history.Restart(block.Start);
        }

        _history.Write(block.Samples.Span);
        var candidates = inner.Process(block);
        if (candidates.Count == 0)
        {
            return candidates;
        }

        var accepted = new List<WakeDetection>();
        foreach (var candidate in candidates)
        {
            if (_lastAccepted.TryGetValue(candidate.Phrase, out var last) && candidate.End >= last && candidate.End - last < refractory)
            {
                continue;
            }

            var from = candidate.End - s_window < _history.Oldest ? _history.Oldest : candidate.End - s_window;
            var window = _history.CopySince(from);
            var keep = (int)Math.Clamp((candidate.End - from).TotalSeconds * AudioFile.SampleRate, 0, window.Length);
            if (speech is not null && speech.Speech(window.AsSpan(0, keep)) < MinimumSpeech)
            {
                RejectedCandidates++;
                continue;
            }

            var score = verifier?.Score(candidate.Phrase, window.AsSpan(0, keep));
            if (score is { } v && v < verifyThreshold)
            {
                RejectedCandidates++;
                continue;
            }

            _lastAccepted[candidate.Phrase] = candidate.End;
            accepted.Add(candidate with { VerifyScore = score });
        }

        return accepted;
    }

    public void Reset()
    {
        inner.Reset();
        _history.Restart();
        _lastAccepted.Clear();
    }

    public void Dispose()
    {
        inner.Dispose();
        speech?.Dispose();
        verifier?.Dispose();
    }
}
