using System.Runtime.InteropServices;
using static VoiceHub.Native.Interop.Pocketsphinx;

namespace VoiceHub.Native.Pocketsphinx;

/// <summary>What a pocketsphinx decoder is built from.</summary>
public sealed record PocketsphinxOptions
{
    /// <summary>Debian pocketsphinx-en-us: holds en-us/ (acoustic model), cmudict-en-us.dict, en-us-phone.lm.bin.</summary>
    public string ModelDirectory { get; init; } = "/usr/share/pocketsphinx/model/en-us";

    /// <summary>Extra decoder settings ("-beam" = "1e-60", ...), passed as pocketsphinx command-line arguments.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    public string AcousticModel => Path.Combine(ModelDirectory, "en-us");

    public string Dictionary => Path.Combine(ModelDirectory, "cmudict-en-us.dict");

}

/// <summary>A word of a hypothesis with its time and scores (natural-log units).</summary>
public sealed record PocketsphinxSegment(string Word, int StartFrame, int EndFrame, double AcousticScore, double LanguageScore, double Probability);

/// <summary>The decoder's best hypothesis for an utterance.</summary>
public sealed record PocketsphinxHypothesis(string Text, double Score, int Frames, IReadOnlyList<PocketsphinxSegment> Segments, IReadOnlyList<(string Text, double Score)> Alternatives)
{
    /// <summary>Hypothesis words without silences and fillers.</summary>
    public IEnumerable<PocketsphinxSegment> Words => Segments.Where(s => !s.Word.StartsWith('<') && !s.Word.StartsWith('[') && !s.Word.StartsWith('+'));

    public double AcousticScore => Segments.Sum(s => s.AcousticScore);
}

/// <summary>
/// A pocketsphinx decoder: searches (JSGF grammars, keyword spotting, phone loop) over one acoustic
/// model and dictionary. Not thread-safe: the component that owns it calls it from one thread.
/// Frames are 10 ms.
/// </summary>
public sealed unsafe class PocketsphinxDecoder : IDisposable
{
    public const int SampleRate = 16000;
    public const int FramesPerSecond = 100;
    private static readonly Lazy<bool> s_quiet = new(() =>
    {
        Interop.Sphinxbase.err_set_logfp(0); // pocketsphinx logs per utterance to stderr otherwise
        return true;
    });

    // Decoder set-up touches pocketsphinx's process-wide log stream (ps_reinit reopens it for
    // -logfn): two threads creating decoders at once corrupted the C library's FILE list.
    private static readonly Lock s_setUp = new();

    private readonly PocketsphinxHandle _decoder;
    private readonly nint _logmath;
    private readonly HashSet<string> _searches = new(StringComparer.Ordinal);
    private bool _inUtterance;

    public PocketsphinxDecoder(PocketsphinxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        foreach (var required in new[] { Path.Combine(options.AcousticModel, "mdef"), Path.Combine(options.AcousticModel, "means"), options.Dictionary })
        {
            if (!File.Exists(required))
            {
                throw new ModelFormatException(required, "missing: the pocketsphinx English model is incomplete (run: sudo apt-get install -y pocketsphinx-en-us)");
            }
        }

        if ((options.Settings.TryGetValue("-mllr", out var transform) || options.Settings.TryGetValue("mllr", out transform)) && transform.Length > 0)
        {
            MllrTransform.Check(transform, MllrTransform.StreamLengths(options.AcousticModel));
        }

        _ = s_quiet.Value;
        var arguments = new List<string> { "voicehub", "-hmm", options.AcousticModel, "-dict", options.Dictionary };
        foreach (var (key, value) in options.Settings)
        {
            arguments.Add(key.StartsWith('-') ? key : "-" + key);
            arguments.Add(value);
        }

        var strings = arguments.Select(a => new NativeUtf8(a)).ToList();
        try
        {
            var argv = stackalloc byte*[strings.Count];
            for (var i = 0; i < strings.Count; i++)
            {
                argv[i] = strings[i].Pointer;
            }

            var config = Interop.Sphinxbase.cmd_ln_parse_r(0, ps_args(), strings.Count, argv, 1);
            if (config == 0)
            {
                throw new ArgumentException($"pocketsphinx rejected the settings: {string.Join(' ', arguments.Skip(5))}", nameof(options));
            }

            try
            {
                lock (s_setUp)
                {
                    _decoder = PocketsphinxHandle.Create(config);
                }
            }
            finally
            {
                _ = Interop.Sphinxbase.cmd_ln_free_r(config); // the decoder keeps its own reference
            }
        }
        finally
        {
            strings.ForEach(s => s.Dispose());
        }

        _logmath = ps_get_logmath(_decoder);
    }

    public PocketsphinxOptions Options { get; }

    /// <summary>The pronunciation of a word ("K AH M P Y UW T ER"), or null when the dictionary lacks it.</summary>
    public string? Lookup(string word)
    {
        var phones = ps_lookup_word(_decoder, word);
        if (phones is null)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8((nint)phones);
        }
        finally
        {
            Interop.Sphinxbase.ckd_free(phones);
        }
    }

    /// <summary>Adds a word (or another pronunciation of one, as "word(2)") to the dictionary.</summary>
    public void AddWord(string word, string phones)
    {
        if (ps_add_word(_decoder, word, phones, 1) < 0)
        {
            throw new NativeEngineException("pocketsphinx", "ps_add_word", -1, $"could not add '{word}' /{phones}/ (unknown phones?)");
        }
    }

    /// <summary>Adds a JSGF grammar as a named search.</summary>
    public void SetGrammar(string name, string jsgf)
    {
        if (ps_set_jsgf_string(_decoder, name, jsgf) < 0)
        {
            throw new NativeEngineException("pocketsphinx", "ps_set_jsgf_string", -1, "pocketsphinx rejected the grammar (an out-of-dictionary word or a JSGF syntax error)");
        }

        _searches.Add(name);
    }

    /// <summary>
    /// Adds a word automaton in pocketsphinx's FSG text format as a named search (see
    /// <c>FsgCompiler</c>: far smaller than the same grammar given as JSGF).
    /// </summary>
    public void SetFsg(string name, string fsg)
    {
        // The language weight scales the automaton's probabilities, as ps_set_jsgf_string does with -lw.
        var languageWeight = (Options.Settings.TryGetValue("-lw", out var lw) || Options.Settings.TryGetValue("lw", out lw)) && float.TryParse(lw, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : 6.5f;
        ThroughFile("fsg", fsg, file =>
        {
            var model = Interop.Sphinxbase.fsg_model_readfile(file, _logmath, languageWeight);
            if (model == 0)
            {
                throw new NativeEngineException("pocketsphinx", "fsg_model_readfile", -1, "pocketsphinx could not read the word automaton");
            }

            try
            {
                if (ps_set_fsg(_decoder, name, model) < 0)
                {
                    throw new NativeEngineException("pocketsphinx", "ps_set_fsg", -1, "pocketsphinx rejected the word automaton (an out-of-dictionary word?)");
                }
            }
            finally
            {
                _ = Interop.Sphinxbase.fsg_model_free(model); // the search keeps its own reference
            }
        });
        _searches.Add(name);
    }

    /// <summary>Adds keyword spotting for phrases with per-phrase thresholds as a named search.</summary>
    public void SetKeywords(string name, IEnumerable<(string Phrase, double Threshold)> phrases)
    {
        var lines = phrases.Select(p => $"{p.Phrase} /{p.Threshold.ToString("0.###e+0", System.Globalization.CultureInfo.InvariantCulture)}/\n");
        ThroughFile("kws", string.Concat(lines), file =>
        {
            if (ps_set_kws(_decoder, name, file) < 0)
            {
                throw new NativeEngineException("pocketsphinx", "ps_set_kws", -1, "pocketsphinx rejected the keyword list");
            }
        });
        _searches.Add(name);
    }

    /// <summary>pocketsphinx reads these inputs only from a path: a private temporary file, gone afterwards.</summary>
    private static void ThroughFile(string kind, string contents, Action<string> read)
    {
        var file = Path.Combine(Path.GetTempPath(), $"voicehub-{kind}-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, contents);
        try
        {
            read(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Adds a free phone loop (any English speech) as a named search: the reference score for
    /// rejection. It is a grammar of one-phone words, two orders of magnitude faster than
    /// pocketsphinx's own phone-loop (allphone) search.
    /// </summary>
    public void SetPhoneLoop(string name)
    {
        string[] phones = ["AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH"];
        foreach (var phone in phones)
        {
            if (Lookup("voicehub_phone_" + phone.ToLowerInvariant()) is null)
            {
                AddWord("voicehub_phone_" + phone.ToLowerInvariant(), phone);
            }
        }

        SetGrammar(name, $"#JSGF V1.0;\ngrammar phones;\npublic <phones> = ( {string.Join(" | ", phones.Select(p => "voicehub_phone_" + p.ToLowerInvariant()))} )+;\n");
    }

    public void Use(string search)
    {
        if (!_searches.Contains(search))
        {
            throw new ArgumentException($"no search named '{search}'", nameof(search));
        }

        if (_inUtterance)
        {
            throw new InvalidOperationException($"cannot switch to search '{search}' during an utterance");
        }

        Check(ps_set_search(_decoder, search), "ps_set_search");
    }

    /// <summary>Decodes one whole utterance (normalized over all of it, as batch CMN wants).</summary>
    public PocketsphinxHypothesis Decode(ReadOnlySpan<short> samples, int alternatives = 0)
    {
        Start();
        fixed (short* data = samples)
        {
            Check(ps_process_raw(_decoder, data, (nuint)samples.Length, 0, 1), "ps_process_raw");
        }

        return End(alternatives);
    }

    /// <summary>Begins a streamed utterance.</summary>
    public void Start()
    {
        if (_inUtterance)
        {
            ps_end_utt(_decoder);
        }

        Check(ps_start_utt(_decoder), "ps_start_utt");
        _inUtterance = true;
    }

    /// <summary>Feeds a block of a streamed utterance; returns the current hypothesis (what keyword spotting found) when asked for it.</summary>
    public string? Process(ReadOnlySpan<short> samples, bool partialHypothesis = true)
    {
        fixed (short* data = samples)
        {
            Check(ps_process_raw(_decoder, data, (nuint)samples.Length, 0, 0), "ps_process_raw");
        }

        if (!partialHypothesis)
        {
            return null; // a grammar search's partial backtrace costs time nobody reads
        }

        var hypothesis = ps_get_hyp(_decoder, null);
        return hypothesis is null ? null : Marshal.PtrToStringUTF8((nint)hypothesis);
    }

    /// <summary>The best hypothesis of the current utterance so far (a grammar search's best path), without ending it.</summary>
    public string CurrentHypothesis()
    {
        var hypothesis = ps_get_hyp(_decoder, null);
        return hypothesis is null ? string.Empty : Marshal.PtrToStringUTF8((nint)hypothesis) ?? string.Empty;
    }

    /// <summary>The words found so far in the current utterance (keyword spotting's detections), with their frames.</summary>
    public IReadOnlyList<PocketsphinxSegment> CurrentSegments() => ReadSegments();

    /// <summary>Frames decoded so far in the current utterance.</summary>
    public int FramesDecoded => ps_get_n_frames(_decoder);

    /// <summary>Ends the utterance and returns the final hypothesis.</summary>
    public PocketsphinxHypothesis End(int alternatives = 0)
    {
        Check(ps_end_utt(_decoder), "ps_end_utt");
        _inUtterance = false;
        int score;
        var text = ps_get_hyp(_decoder, &score);
        var segments = ReadSegments();
        var others = new List<(string, double)>();
        if (alternatives > 0)
        {
            // The iterator frees itself when it runs out; stopping early frees it here.
            var nbest = ps_nbest(_decoder);
            while (nbest != 0 && others.Count < alternatives)
            {
                int nscore;
                var hyp = ps_nbest_hyp(nbest, &nscore);
                if (hyp is not null)
                {
                    others.Add((Marshal.PtrToStringUTF8((nint)hyp) ?? string.Empty, Ln(nscore)));
                }

                nbest = ps_nbest_next(nbest);
            }

            if (nbest != 0)
            {
                ps_nbest_free(nbest);
            }
        }

        return new PocketsphinxHypothesis(text is null ? string.Empty : Marshal.PtrToStringUTF8((nint)text) ?? string.Empty, Ln(score), ps_get_n_frames(_decoder), segments, others);
    }

    private List<PocketsphinxSegment> ReadSegments()
    {
        var segments = new List<PocketsphinxSegment>();
        for (var seg = ps_seg_iter(_decoder); seg != 0; seg = ps_seg_next(seg))
        {
            int start, end, acoustic, language, back;
            ps_seg_frames(seg, &start, &end);
            var probability = ps_seg_prob(seg, &acoustic, &language, &back);
            segments.Add(new PocketsphinxSegment(
                Marshal.PtrToStringUTF8((nint)ps_seg_word(seg)) ?? string.Empty,
                start,
                end,
                Ln(acoustic),
                Ln(language),
                Interop.Sphinxbase.logmath_exp(_logmath, probability)));
        }

        return segments;
    }

    private double Ln(int logScore) => Interop.Sphinxbase.logmath_log_to_ln(_logmath, logScore);

    private static void Check(int result, string function)
    {
        if (result < 0)
        {
            throw new NativeEngineException("pocketsphinx", function, result, "decoding failed");
        }
    }

    public void Dispose() => _decoder.Dispose();
}
