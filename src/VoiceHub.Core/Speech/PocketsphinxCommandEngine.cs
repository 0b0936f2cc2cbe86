using System.Diagnostics;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Registry;
using VoiceHub.Native;
using VoiceHub.Native.Pocketsphinx;

namespace VoiceHub.Core.Speech;

/// <summary>How the closed-set engine decodes (section <c>speech:pocketsphinx</c>).</summary>
public sealed class PocketsphinxEngineOptions
{
    /// <summary>
    /// Per-frame acoustic log-likelihood of the grammar's best path minus that of a free phone loop,
    /// under which a hypothesis is rejected as out of grammar (not a command, or not understood).
    /// </summary>
    public double RejectionThreshold { get; set; } = -0.6;

    /// <summary>Decoder settings over VoiceHub's defaults, e.g. <c>beam: 1e-60</c>.</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>VoiceHub's tuned defaults for command grammars (see the eval speech report).</summary>
    public static IReadOnlyDictionary<string, string> Defaults { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["-beam"] = "1e-60",
        ["-wbeam"] = "1e-40",
        ["-pbeam"] = "1e-60",
        ["-bestpath"] = "yes",
    };
}

/// <summary>
/// The closed-set command recognizer: pocketsphinx and its English acoustic model under a JSGF
/// grammar compiled from the intent templates and the device registry. It only ever hears
/// sentences the templates accept, and rejects what does not fit: a second pass through a free
/// phone loop gives the acoustic score any English speech would get, and a grammar path much
/// worse than that is out-of-grammar speech or noise, so it is reported as not understood.
/// </summary>
public sealed class PocketsphinxCommandEngine : ISpeechEngine
{
    private const string CommandSearch = "command";
    private const string PhoneSearch = "phones";
    private readonly PocketsphinxDecoder _decoder;
    private readonly NativeWorker _worker = new("pocketsphinx");
    private readonly PocketsphinxEngineOptions _options;

    public PocketsphinxCommandEngine(string modelDirectory, PocketsphinxEngineOptions options, IntentSet intents, DeviceRegistry registry, IEnumerable<string>? onlyIntents = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Grammar = JsgfGrammarBuilder.Build(intents, registry, onlyIntents);
        var settings = new Dictionary<string, string>(PocketsphinxEngineOptions.Defaults, StringComparer.Ordinal);
        foreach (var (key, value) in options.Settings)
        {
            settings[key.StartsWith('-') ? key : "-" + key] = value;
        }

        _decoder = new PocketsphinxDecoder(new PocketsphinxOptions { ModelDirectory = modelDirectory, Settings = settings });
        try
        {
            AddMissingWords(Grammar.Words);
            _decoder.SetGrammar(CommandSearch, Grammar.Jsgf);
            _decoder.SetPhoneLoop(PhoneSearch);
        }
        catch
        {
            _decoder.Dispose();
            throw;
        }
    }

    public string Name => "pocketsphinx";

    public bool IsClosedSet => true;

    public SpeechGrammar Grammar { get; }

    /// <summary>Words the dictionary lacked, with the pronunciation espeak-ng gave them.</summary>
    public IReadOnlyDictionary<string, string> AddedWords { get; private set; } = new Dictionary<string, string>();

    private void AddMissingWords(IEnumerable<string> words)
    {
        var added = new Dictionary<string, string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var word in words)
        {
            if (_decoder.Lookup(word) is not null)
            {
                continue;
            }

            if (EspeakPronouncer.Pronounce(word) is { } phones)
            {
                _decoder.AddWord(word, phones);
                added[word] = phones;
            }
            else
            {
                unknown.Add(word);
            }
        }

        if (unknown.Count > 0)
        {
            throw new InvalidOperationException($"no pronunciation for {string.Join(", ", unknown.Select(w => $"'{w}'"))}: not in the pocketsphinx dictionary and espeak-ng gave none (is espeak-ng installed?)");
        }

        AddedWords = added;
    }

    public Task<Transcript> TranscribeAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken = default) =>
        _worker.RunAsync(() =>
        {
            var clock = Stopwatch.StartNew();
            var best = Score(Pcm.ToInt16(samples.Span), cancellationToken);
            if (best?.Hypothesis is not { } hypothesis)
            {
                return Transcript.Rejected(Name, "no command in the grammar fits the audio", clock.Elapsed);
            }

            var confidence = 1 / (1 + Math.Exp(-(best.Ratio - _options.RejectionThreshold) * 5));
            if (best.Ratio < _options.RejectionThreshold)
            {
                return Transcript.Rejected(Name, $"sounds unlike any command (score {best.Ratio:0.00} per frame)", clock.Elapsed, confidence) with { Text = hypothesis.Text, Score = best.Ratio };
            }

            return new Transcript(hypothesis.Text, Name, confidence, null, clock.Elapsed, []) { Score = best.Ratio };
        });

    /// <summary>The grammar's best hypothesis for the audio, and how much worse than free speech it scores per frame.</summary>
    private Scored Score(short[] pcm, CancellationToken cancellationToken)
    {
        _decoder.Use(CommandSearch);
        var hypothesis = _decoder.Decode(pcm);
        if (!hypothesis.Words.Any())
        {
            return new Scored(null, double.NegativeInfinity);
        }

        cancellationToken.ThrowIfCancellationRequested();
        _decoder.Use(PhoneSearch);
        var phones = _decoder.Decode(pcm);
        // pocketsphinx's scaled acoustic scores differ by about a thousandth of a nat per frame: use milli-units.
        var ratio = 1000 * (hypothesis.AcousticScore - phones.AcousticScore) / Math.Max(1, hypothesis.Frames);
        return new Scored(hypothesis, ratio);
    }

    private sealed record Scored(PocketsphinxHypothesis? Hypothesis, double Ratio);

    public void Dispose()
    {
        _worker.Dispose();
        _decoder.Dispose();
    }
}
