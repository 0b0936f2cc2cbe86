using System.Diagnostics;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Native;
using VoiceHub.Native.Pocketsphinx;

namespace VoiceHub.Core.Speech;

/// <summary>How the closed-set engine decodes (section <c>speech:pocketsphinx</c>).</summary>
public sealed class PocketsphinxEngineOptions
{
    /// <summary>
    /// Per-frame acoustic log-likelihood of the grammar's words minus that of a free phone loop over
    /// the same frames, under which a hypothesis is rejected as out of grammar (not a command, or not
    /// understood). At -1.2 on the 145 dev recordings (clean, 6, 12, 24 dB) as many commands pass as
    /// at the whole utterance's -0.6 before, and 5 of 20 stretches of kitchen noise instead of 10.
    /// </summary>
    public double RejectionThreshold { get; set; } = -1.2;

    /// <summary>
    /// Most entity names the command grammar spells out. Each costs about 0.07 MiB of decoder memory
    /// with the shipped English intents (a recognize process: 330 MiB with 100 names, 393 MiB with
    /// 1,000; the grammar's automaton spells the name list once per context it follows), and many
    /// similar names make each other harder to tell apart: a home beyond this is heard for the devices
    /// file's entities first, then the rest in registry order, and everything stays reachable by text
    /// and by the whisper tier.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100000)]
    public int MaxGrammarEntities { get; set; } = 100;

    /// <summary>
    /// An MLLR transform of the acoustic model's means, as <c>voicehub adapt</c> (sphinxtrain's
    /// <c>mllr_solve</c>) writes it, fitting the model to a household's voices, microphone and room;
    /// checked against the model before pocketsphinx reads it. Empty: the model as Debian ships it.
    /// None ships: one solved on the dev orders in kitchen noise won 15 of 1,015 noisy orders from
    /// recordings it had not seen, but lost a clean one and a clean synthetic home command.
    /// </summary>
    public string AcousticAdaptation { get; set; } = "";

    /// <summary>
    /// Checks <see cref="AcousticAdaptation"/> against the configured model when the hub starts: a
    /// transform for another model is a configuration error there, not a failure of every model rung.
    /// </summary>
    public sealed class AdaptationValidator(Microsoft.Extensions.Options.IOptions<Models.ModelsOptions> models) : Microsoft.Extensions.Options.IValidateOptions<PocketsphinxEngineOptions>
    {
        public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, PocketsphinxEngineOptions options)
        {
            ArgumentNullException.ThrowIfNull(options);
            var acousticModel = new PocketsphinxOptions { ModelDirectory = models.Value.PocketsphinxModelDirectory }.AcousticModel;
            if (options.AcousticAdaptation.Length == 0 || !File.Exists(Path.Combine(acousticModel, "means")))
            {
                return Microsoft.Extensions.Options.ValidateOptionsResult.Success; // no model to check against: the engine says what is missing
            }

            try
            {
                MllrTransform.Check(options.AcousticAdaptation, MllrTransform.StreamLengths(acousticModel));
                return Microsoft.Extensions.Options.ValidateOptionsResult.Success;
            }
            catch (ModelFormatException e)
            {
                return Microsoft.Extensions.Options.ValidateOptionsResult.Fail($"speech:pocketsphinx:acousticAdaptation: {e.Message}");
            }
        }
    }

    /// <summary>Decoder settings over VoiceHub's defaults, e.g. <c>beam: 1e-60</c>.</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>VoiceHub's tuned defaults for command grammars (see the eval speech report).</summary>
    public static IReadOnlyDictionary<string, string> Defaults { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["-beam"] = "1e-60",
        ["-wbeam"] = "1e-40",
        ["-pbeam"] = "1e-60",
        ["-bestpath"] = "yes",
        // A lighter prior than pocketsphinx's 6.5, at which the automaton's branching outweighed the
        // sound: short sentences beat long ones ("toggle kitchen light" for "turn on the kitchen
        // light"). At 4, on the 145 dev recordings: 98.6% clean, 92.4% at 12 dB, 75.2% at 6 dB.
        ["-lw"] = "4",
    };
}

/// <summary>
/// The closed-set command recognizer: pocketsphinx and its English acoustic model under a JSGF
/// grammar compiled from the intent templates and the device registry. It only ever hears
/// sentences the templates accept, and rejects what does not fit: a second pass through a free
/// phone loop gives the acoustic score any English speech would get, and a grammar path much
/// worse than that is out-of-grammar speech or noise, so it is reported as not understood.
/// </summary>
public sealed class PocketsphinxCommandEngine : IStreamingSpeechEngine
{
    private const string CommandSearch = "command";
    private const string PhoneSearch = "phones";
    private readonly PocketsphinxDecoder _decoder;
    private readonly PocketsphinxDecoder _phones; // a decoder of its own, so both passes can run while the user speaks
    private readonly NativeWorker _worker = new("pocketsphinx");
    private readonly PocketsphinxEngineOptions _options;
    private readonly IntentSet _intents;
    private readonly List<string>? _onlyIntents;

    public PocketsphinxCommandEngine(string modelDirectory, PocketsphinxEngineOptions options, IntentSet intents, DeviceRegistry registry, IEnumerable<string>? onlyIntents = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        ArgumentNullException.ThrowIfNull(registry);
        _intents = intents;
        _onlyIntents = onlyIntents?.ToList();
        GrammarRegistry = Spelled(registry, options);
        Grammar = JsgfGrammarBuilder.Build(intents, GrammarRegistry, _onlyIntents);
        var settings = new Dictionary<string, string>(PocketsphinxEngineOptions.Defaults, StringComparer.Ordinal);
        if (options.AcousticAdaptation.Length > 0)
        {
            settings["-mllr"] = options.AcousticAdaptation;
        }

        foreach (var (key, value) in options.Settings)
        {
            settings[key.StartsWith('-') ? key : "-" + key] = value;
        }

        _decoder = new PocketsphinxDecoder(new PocketsphinxOptions { ModelDirectory = modelDirectory, Settings = settings });
        _phones = new PocketsphinxDecoder(new PocketsphinxOptions { ModelDirectory = modelDirectory, Settings = settings });
        try
        {
            AddMissingWords(Grammar.Words);
            // The minimal automaton of the same sentences: a tenth of the memory and faster to search.
            if (FsgCompiler.Compile(Grammar.Jsgf) is { } automaton)
            {
                _decoder.SetFsg(CommandSearch, automaton);
            }
            else
            {
                _decoder.SetGrammar(CommandSearch, Grammar.Jsgf);
            }
            _decoder.Use(CommandSearch);
            _phones.SetPhoneLoop(PhoneSearch);
            _phones.Use(PhoneSearch);
        }
        catch
        {
            _decoder.Dispose();
            _phones.Dispose();
            throw;
        }
    }

    public string Name => "pocketsphinx";

    public bool IsClosedSet => true;

    public SpeechGrammar Grammar { get; }

    /// <summary>The home as the grammar spells it: the whole registry, or the first <see cref="PocketsphinxEngineOptions.MaxGrammarEntities"/> entities of a larger one.</summary>
    public DeviceRegistry GrammarRegistry { get; }

    /// <summary>
    /// Whether this engine's grammar is also the one <paramref name="registry"/> would give: a home that
    /// grew past <see cref="PocketsphinxEngineOptions.MaxGrammarEntities"/>, or changed only in what the
    /// grammar does not spell, needs no new engine (building one costs a second acoustic model in memory).
    /// </summary>
    public bool WouldHear(DeviceRegistry registry) =>
        JsgfGrammarBuilder.Build(_intents, Spelled(registry, _options), _onlyIntents).Jsgf == Grammar.Jsgf;

    /// <summary>The home as the grammar spells it: the devices file's entities first, then discovered ones, capped.</summary>
    private static DeviceRegistry Spelled(DeviceRegistry registry, PocketsphinxEngineOptions options) =>
        registry.Entities.Count <= options.MaxGrammarEntities ? registry : new DeviceRegistry(registry.Floors, registry.Areas,
            registry.Entities.OrderBy(e => e.Source == "mqtt" ? 1 : 0).Take(options.MaxGrammarEntities)); // a stable sort: registry order within each source

    /// <summary>Words the dictionary lacked, with the pronunciation espeak-ng gave them.</summary>
    public IReadOnlyDictionary<string, string> AddedWords { get; private set; } = new Dictionary<string, string>();

    private void AddMissingWords(IEnumerable<string> words)
    {
        var added = new Dictionary<string, string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        var missing = words.Where(w => _decoder.Lookup(w) is null).Distinct(StringComparer.Ordinal).ToList();
        var pronunciations = EspeakPronouncer.PronounceAll(missing);
        foreach (var word in missing)
        {
            if (pronunciations.GetValueOrDefault(word) is { } phones)
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
            var pcm = Pcm.ToInt16(samples.Span);
            var hypothesis = _decoder.Decode(pcm);
            cancellationToken.ThrowIfCancellationRequested();
            var phones = hypothesis.Words.Any() ? _phones.Decode(pcm) : null;
            return Judge(hypothesis, phones, clock.Elapsed);
        });

    /// <summary>Decodes both passes while the audio arrives; at the end only the last frames remain.</summary>
    public IUtteranceDecoding StartDecoding() => new Decoding(this);

    /// <summary>The grammar's best hypothesis, rejected when it scores much worse per frame than free speech.</summary>
    private Transcript Judge(PocketsphinxHypothesis hypothesis, PocketsphinxHypothesis? phones, TimeSpan elapsed)
    {
        if (!hypothesis.Words.Any() || phones is null)
        {
            return Transcript.Rejected(Name, "no command in the grammar fits the audio", elapsed);
        }

        var ratio = PerFrameAgainstPhones(hypothesis, phones);
        var confidence = 1 / (1 + Math.Exp(-(ratio - _options.RejectionThreshold) * 5));
        if (ratio < _options.RejectionThreshold)
        {
            return Transcript.Rejected(Name, $"sounds unlike any command (score {ratio:0.00} per frame)", elapsed, confidence) with { Text = hypothesis.Text, Score = ratio };
        }

        return new Transcript(hypothesis.Text, Name, confidence, null, elapsed, []) { Score = ratio };
    }

    /// <summary>
    /// A constrained hypothesis's words' (a command's, or a wake phrase's) acoustic score minus free phones' over the same frames, per frame (below zero: the constraint fits worse),
    /// from the first word's start to the last word's end; negative infinity without words. Over the whole utterance, the silence and
    /// noise around a short hypothesis (both passes score them alike) diluted the difference toward
    /// zero: three seconds of kitchen noise passed as "latte".
    /// </summary>
    internal static double PerFrameAgainstPhones(PocketsphinxHypothesis hypothesis, PocketsphinxHypothesis phones)
    {
        if (!hypothesis.Words.Any())
        {
            return double.NegativeInfinity;
        }

        var first = hypothesis.Words.Min(w => w.StartFrame);
        var last = hypothesis.Words.Max(w => w.EndFrame);
        var grammar = hypothesis.Segments.Where(s => s.StartFrame >= first && s.EndFrame <= last).Sum(s => s.AcousticScore);
        // A phone that straddles the span's edge counts for the share of its frames inside it.
        var free = phones.Segments.Sum(s => s.AcousticScore * Math.Max(0, Math.Min(last, s.EndFrame) - Math.Max(first, s.StartFrame) + 1) / Math.Max(1, s.EndFrame - s.StartFrame + 1));
        // pocketsphinx's scaled acoustic scores differ by about a thousandth of a nat per frame: use milli-units.
        return 1000 * (grammar - free) / (last - first + 1);
    }

    private sealed class Decoding : IUtteranceDecoding
    {
        private readonly PocketsphinxCommandEngine _engine;
        private Task _queue;
        private bool _finished;

        public Decoding(PocketsphinxCommandEngine engine)
        {
            _engine = engine;
            _queue = engine._worker.RunAsync(() =>
            {
                engine._decoder.Start();
                engine._phones.Start();
            });
        }

        public void Feed(ReadOnlySpan<float> samples)
        {
            var pcm = Pcm.ToInt16(samples);
            _queue = _engine._worker.RunAsync(() =>
            {
                _engine._decoder.Process(pcm, partialHypothesis: false);
                _engine._phones.Process(pcm, partialHypothesis: false);
            });
        }

        public async Task<Transcript> FinishAsync(CancellationToken cancellationToken = default)
        {
            var clock = Stopwatch.StartNew();
            await _queue.WaitAsync(cancellationToken).ConfigureAwait(false);
            _finished = true;
            return await _engine._worker.RunAsync(() => _engine.Judge(_engine._decoder.End(), _engine._phones.End(), clock.Elapsed)).ConfigureAwait(false);
        }

        public async Task<string?> HypothesisSoFarAsync(CancellationToken cancellationToken = default)
        {
            await _queue.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await _engine._worker.RunAsync(() => _engine._decoder.CurrentHypothesis()).ConfigureAwait(false);
        }

        public void Dispose()
        {
            if (!_finished)
            {
                _finished = true;
                _ = _engine._worker.RunAsync(() =>
                {
                    // An abandoned utterance (no speech after all): close it so the next one starts clean.
                    _ = _engine._decoder.End();
                    _ = _engine._phones.End();
                });
            }
        }
    }

    public void Dispose()
    {
        _worker.Dispose();
        _decoder.Dispose();
        _phones.Dispose();
    }
}
