using System.Globalization;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Core.Speech;
using VoiceHub.Native.Pocketsphinx;

namespace VoiceHub.Core.Wake;

/// <summary>A wake phrase and how eagerly it is spotted.</summary>
public sealed class WakePhrase
{
    public string Phrase { get; set; } = "computer";

    /// <summary>
    /// 0 (only clear, close pronunciations) to 1 (anything close). At 0.8 (a phrase model's threshold
    /// 0.5) with verification at 0.5, eval wake on the wake-word dev set, "computer" in 10 dB of
    /// kitchen noise: 2.8% missed, no false alarm in 15 minutes of speech.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 1.0)]
    public double Sensitivity { get; set; } = 0.8;
}

/// <summary>Wake-word settings (section <c>wake</c>).</summary>
public sealed class WakeOptions
{
    public const string Section = "wake";

    /// <summary>The phrases; none configured means "computer" (filled in after binding: bound lists append to defaults).</summary>
    public List<WakePhrase> Phrases { get; set; } = [];

    /// <summary>After a detection, the same phrase is not reported again for this long.</summary>
    public TimeSpan Refractory { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Re-check each spotted phrase against free speech before waking (fewer false alarms).</summary>
    public bool Verify { get; set; } = true;

    /// <summary>
    /// Per-frame score, over the phrase's words, the phrase must beat the phone loop by in verification
    /// (milli-units, as the closed-set engine). At 0.5, "computer" at 10 dB of kitchen noise: no false
    /// alarm in 15 min from 0.5 to 0.7, one from 0.4 down; clean recordings start failing at 0.7.
    /// </summary>
    public double VerifyThreshold { get; set; } = 0.5;

    /// <summary>
    /// A wake model file: a personal <c>.wake</c> verifier (<c>voicehub wake enroll</c>) or an
    /// openWakeWord-style <c>.onnx</c> head. Set, it replaces the phrase spotter.
    /// </summary>
    public string? Model { get; set; }

    /// <summary>Score (0..1) from which the model's phrase counts as heard; unset, the model's own.</summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 1.0)]
    public double? ModelThreshold { get; set; }

    /// <summary>
    /// Hear the phrases with a neural model trained for each from espeak-ng renderings (once, kept in
    /// the models folder's <c>wake/</c>); off, with the pocketsphinx keyword spotter.
    /// </summary>
    public bool Neural { get; set; } = true;

    /// <summary>With a wake model: Silero VAD must hear speech in each candidate (noise that fools the model is not speech).</summary>
    public bool SpeechCheck { get; set; } = true;

    /// <summary>Folder of openWakeWord's feature models; unset, the <c>wake-models</c> folder beside the program.</summary>
    public string? FeatureModelDirectory { get; set; }

    /// <summary>How many times the hub asks for the phrase when it learns it from its users (Home Assistant's "Learn wake word").</summary>
    [System.ComponentModel.DataAnnotations.Range(3, 10)]
    public int EnrollmentSayings { get; set; } = 5;

    /// <summary>A copy with every setting (a fallback changes the copy, not what the host bound).</summary>
    public WakeOptions Clone()
    {
        var copy = (WakeOptions)MemberwiseClone();
        copy.Phrases = [.. Phrases];
        return copy;
    }
}

/// <summary>A detected wake phrase: when it ended and how sure the detector is (0..1).</summary>
public sealed record WakeDetection(string Phrase, TimeSpan Start, TimeSpan End, double Score, double? VerifyScore);

/// <summary>A wake phrase with words the recognizer does not know.</summary>
public sealed class WakePhraseException(string message) : Exception(message);

/// <summary>
/// The second look at a wake candidate: the window decoded twice, constrained to the phrase and
/// as free phones; the per-frame score by which the phrase beats free speech over the frames the
/// phrase's words take (milli-units, as the closed-set engine scores a command). A false alarm
/// rarely fits the phrase better than anything else. Not thread-safe.
/// </summary>
public sealed class PhraseVerifier : IDisposable
{
    private const string PhoneSearch = "phones";

    /// <summary>Frames must stay 10 ms of stream each for timestamps: no silence removal inside pocketsphinx.</summary>
    internal static readonly Dictionary<string, string> StreamSettings = new(StringComparer.Ordinal) { ["-bestpath"] = "no", ["-remove_silence"] = "no" };

    private readonly PocketsphinxDecoder _decoder;
    private readonly List<string> _phrases;

    public PhraseVerifier(string modelDirectory, IReadOnlyList<string> phrases)
    {
        ArgumentNullException.ThrowIfNull(phrases);
        _decoder = new PocketsphinxDecoder(new PocketsphinxOptions { ModelDirectory = modelDirectory, Settings = StreamSettings });
        try
        {
            _phrases = [.. phrases.Select(WakePhraseText.Normalize)];
            Teach(_decoder, _phrases);
            for (var i = 0; i < _phrases.Count; i++)
            {
                _decoder.SetGrammar($"verify{i}", $"#JSGF V1.0;\ngrammar wake{i};\npublic <wake> = {_phrases[i]};\n");
            }

            _decoder.SetPhoneLoop(PhoneSearch);
        }
        catch
        {
            _decoder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Gives the decoder a pronunciation for every word of the phrases: the dictionary's, else
    /// espeak-ng's (as the command engine does for device names). A word neither knows is refused.
    /// </summary>
    internal static void Teach(PocketsphinxDecoder decoder, IEnumerable<string> phrases)
    {
        var texts = phrases.ToList();
        if (texts.Count == 0 || texts.Any(t => t.Length == 0))
        {
            throw new WakePhraseException("a wake phrase has no words");
        }

        var unknown = texts.SelectMany(t => t.Split(' ')).Where(w => decoder.Lookup(w) is null).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count == 0)
        {
            return;
        }

        var spelled = EspeakPronouncer.PronounceAll(unknown);
        var unspeakable = unknown.Where(w => spelled.GetValueOrDefault(w) is not { Length: > 0 }).ToList();
        if (unspeakable.Count > 0)
        {
            throw new WakePhraseException($"wake phrase words neither the pronunciation dictionary nor espeak-ng can spell: {string.Join(", ", unspeakable)} (is espeak-ng installed?)");
        }

        foreach (var word in unknown)
        {
            decoder.AddWord(word, spelled[word]!);
        }
    }

    public double Score(string phrase, ReadOnlySpan<float> window)
    {
        var index = _phrases.IndexOf(WakePhraseText.Normalize(phrase));
        if (index < 0)
        {
            throw new ArgumentException($"not a phrase of this verifier: {phrase}", nameof(phrase));
        }

        var pcm = Pcm.ToInt16(window);
        _decoder.Use($"verify{index}");
        var constrained = _decoder.Decode(pcm);
        _decoder.Use(PhoneSearch);
        var free = _decoder.Decode(pcm);
        // Over the phrase's own frames, not the whole window: the rest of the window, silence and
        // noise or other words, diluted the difference, and in kitchen noise it let speech that merely
        // resembles the phrase pass (10 dB, "computer": 3 false alarms in 15 min, none scored this way).
        return PocketsphinxCommandEngine.PerFrameAgainstPhones(constrained, free);
    }

    public void Dispose() => _decoder.Dispose();
}

/// <summary>
/// Spots wake phrases in a stream with pocketsphinx keyword search, then (second stage) verifies
/// each one by decoding the window it was heard in twice: constrained to the phrase and as free
/// phones; a phrase that does not beat free speech by a margin is a false alarm. A refractory
/// period stops double wakes. (An energy gate that idled the spotter in silence was tried and
/// dropped: restarting the search at each sound made it miss phrases, and the spotter alone
/// costs about 2% of one x86 core.)
/// Not thread-safe: the audio loop calls it.
/// </summary>
public sealed class WakeWordDetector : IWakeDetector
{
    private const string SpotSearch = "spot";
    private static readonly TimeSpan s_restartEvery = TimeSpan.FromSeconds(20);

    private readonly PocketsphinxDecoder _spotter;
    private readonly PhraseVerifier _verifier;
    private readonly WakeOptions _options;
    private readonly AudioRingBuffer _history = new(TimeSpan.FromSeconds(4));
    private readonly Dictionary<string, TimeSpan> _lastDetection = new(StringComparer.Ordinal);
    private bool _spotting;
    private long _spottedFrames;
    private long _utteranceBaseFrame;
    private TimeSpan _utteranceStart;
    private short[] _pcm = new short[1024];

    public WakeWordDetector(string modelDirectory, WakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Phrases.Count == 0)
        {
            throw new WakePhraseException("no wake phrase configured");
        }

        _options = options;
        var phrases = options.Phrases.Select(p => (Text: string.Join(' ', TextNormalizer.Tokenize(p.Phrase)), p.Sensitivity)).ToList();
        _spotter = new PocketsphinxDecoder(new PocketsphinxOptions { ModelDirectory = modelDirectory, Settings = PhraseVerifier.StreamSettings });
        try
        {
            PhraseVerifier.Teach(_spotter, phrases.Select(p => p.Text));
            Phrases = [.. phrases.Select(p => p.Text)];
            _spotter.SetKeywords(SpotSearch, phrases.Select(p => (p.Text, Threshold(p.Sensitivity, p.Text))));
            _spotter.Use(SpotSearch);
            _verifier = new PhraseVerifier(modelDirectory, Phrases);
        }
        catch
        {
            _spotter.Dispose();
            throw;
        }
    }

    public IReadOnlyList<string> Phrases { get; }

    /// <summary>Candidates the spotter raised and verification rejected.</summary>
    public int RejectedCandidates { get; private set; }

    /// <summary>Audio the spotter has decoded.</summary>
    public TimeSpan SpottedAudio { get; private set; }

    /// <summary>
    /// pocketsphinx keyword thresholds: longer phrases need smaller ones. Sensitivity 0..1 spans
    /// 1e-10 to 1e-50 for a two-syllable phrase, scaled by the phrase's length in phones.
    /// </summary>
    public double Threshold(double sensitivity, string phrase)
    {
        var phones = phrase.Split(' ').Sum(w => (_spotter.Lookup(w) ?? "x x x x").Split(' ').Length);
        var exponent = (10 + (40 * sensitivity)) * Math.Clamp(phones / 6.0, 0.5, 2.5);
        return Math.Pow(10, -exponent);
    }

    /// <summary>Forgets the stream so far (a new input whose timestamps start again, e.g. the next file).</summary>
    public void Reset()
    {
        if (_spotting)
        {
            _spotter.End();
            _spotting = false;
        }

        _lastDetection.Clear();
        _history.Restart();
    }

    // Timestamps computed from seconds round differently from sample counts; a real gap is far longer.
    private static readonly TimeSpan GapTolerance = TimeSpan.FromMilliseconds(5);

    /// <summary>Feeds a block of the stream; returns the wake phrases that ended in it.</summary>
    public IReadOnlyList<WakeDetection> Process(AudioBlock block)
    {
        var samples = block.Samples.Span;
        if ((block.Start - _history.Now).Duration() > GapTolerance)
        {
            // A gap (the pipeline was busy with a command): the spotter starts afresh there.
            _history.Restart(block.Start);
            if (_spotting)
            {
                _spotter.End();
                _spotting = false;
            }
        }

        _history.Write(samples);
        if (!_spotting)
        {
            StartUtterance(block.Start);
        }
        else if (block.Start - _utteranceStart > s_restartEvery)
        {
            _spotter.End();
            StartUtterance(block.Start); // bound the search's memory on long stretches of sound
        }

        return Feed(samples, block.End);
    }

    private void StartUtterance(TimeSpan start)
    {
        _spotter.Start();
        _spotting = true;
        _utteranceStart = start;
        _utteranceBaseFrame = _spottedFrames;
    }

    private List<WakeDetection> Feed(ReadOnlySpan<float> samples, TimeSpan now)
    {
        if (_pcm.Length < samples.Length)
        {
            _pcm = new short[samples.Length];
        }

        for (var i = 0; i < samples.Length; i++)
        {
            _pcm[i] = (short)Math.Clamp(samples[i] * 32767f, short.MinValue, short.MaxValue);
        }

        SpottedAudio += TimeSpan.FromSeconds(samples.Length / (double)AudioFile.SampleRate);
        _spottedFrames += samples.Length / 160;
        var hypothesis = _spotter.Process(_pcm.AsSpan(0, samples.Length));
        if (string.IsNullOrEmpty(hypothesis))
        {
            return [];
        }

        // Keyword segments carry the phrase with a trailing space, and count frames from the first
        // utterance of the decoder rather than the current one: rebase them on this utterance.
        var decoded = _spotter.FramesDecoded;
        var found = _spotter.CurrentSegments()
            .Select(s => s with { Word = s.Word.Trim() })
            .Select(s => s.EndFrame > decoded ? s with { StartFrame = (int)(s.StartFrame - _utteranceBaseFrame), EndFrame = (int)(s.EndFrame - _utteranceBaseFrame) } : s)
            .Where(s => Phrases.Contains(s.Word))
            .ToList();
        _spotter.End();
        _spotting = false;
        var detections = new List<WakeDetection>();
        // Without segments, the phrase in the hypothesis ended where decoding is now (about as long as 0.6 s).
        var heard = Phrases.FirstOrDefault(p => hypothesis.Contains(p, StringComparison.Ordinal)) ?? Phrases[0];
        foreach (var segment in found.Count > 0 ? found : [new PocketsphinxSegment(heard, Math.Max(0, _spotter.FramesDecoded - 60), _spotter.FramesDecoded, 0, 0, 1)])
        {
            var start = _utteranceStart + TimeSpan.FromMilliseconds(segment.StartFrame * 10);
            var end = _utteranceStart + TimeSpan.FromMilliseconds((segment.EndFrame + 1) * 10);
            if (_lastDetection.TryGetValue(segment.Word, out var last) && end >= last && end - last < _options.Refractory)
            {
                continue;
            }

            double? verify = _options.Verify ? Verify(segment.Word, start, end) : null;
            if (verify is { } v && v < _options.VerifyThreshold)
            {
                RejectedCandidates++;
                continue;
            }

            _lastDetection[segment.Word] = end;
            var score = verify is { } s ? 1 / (1 + Math.Exp(-(s - _options.VerifyThreshold) * 5)) : segment.Probability;
            detections.Add(new WakeDetection(segment.Word, start, end, score, verify));
        }

        // Start a fresh search after a candidate, so the same stretch is not reported again.
        StartUtterance(now);
        return detections;
    }

    /// <summary>Per-frame score of the phrase against free phones over the phrase's words in the window it was spotted in.</summary>
    private double Verify(string phrase, TimeSpan start, TimeSpan end)
    {
        var from = start - TimeSpan.FromMilliseconds(250);
        if (from < _history.Oldest)
        {
            from = _history.Oldest;
        }

        // The window ends just after the phrase: what follows (the command) is no part of it.
        var window = _history.CopySince(from);
        var keep = (int)Math.Clamp((end + TimeSpan.FromMilliseconds(150) - from).TotalSeconds * AudioFile.SampleRate, 0, window.Length);
        return _verifier.Score(phrase, window.AsSpan(0, keep));
    }

    public static string Describe(double threshold) => threshold.ToString("0.#e+0", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _spotter.Dispose();
        _verifier.Dispose();
    }
}
