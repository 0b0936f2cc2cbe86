using System.Diagnostics;
using System.Text;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Registry;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Native.Grammar;
using VoiceHub.Native.Whisper;

namespace VoiceHub.Core.Speech;

/// <summary>How the whisper engine runs (section <c>speech:whisper</c>).</summary>
public sealed class WhisperEngineOptions
{
    /// <summary>ggml model file (a name in the models directory, or a path), e.g. ggml-base.en.bin.</summary>
    public string Model { get; set; } = string.Empty;

    public string Language { get; set; } = "en";

    [System.ComponentModel.DataAnnotations.Range(1, 64)]
    public int Threads { get; set; } = Math.Max(1, Environment.ProcessorCount);

    [System.ComponentModel.DataAnnotations.Range(1, 8)]
    public int BeamSize { get; set; } = 1;

    /// <summary>Steer decoding with a grammar built from the intent templates (commands only, no free speech).</summary>
    public bool CommandGrammar { get; set; }

    /// <summary>Put device and area names in the initial prompt so whisper spells them as the registry does.</summary>
    public bool PromptWithNames { get; set; } = true;

    /// <summary>Above this no-speech probability a segment is silence.</summary>
    public float NoSpeechThreshold { get; set; } = 0.6f;

    /// <summary>Below this average token log-probability a transcript is too unsure to act on.</summary>
    public float MinimumAverageLogProbability { get; set; } = -1.0f;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Open speech with whisper.cpp: one model and one reusable native state. The initial prompt
/// carries the home's device and area names so they come out spelled right; in command mode a
/// grammar built from the intent templates steers decoding. Silence, noise and unsure transcripts
/// are rejected (no-speech probability, average log-probability, known hallucinations) so that a
/// wrong command is never produced from them; a run that outlasts its timeout is aborted.
/// </summary>
public sealed class WhisperEngine : ISpeechEngine
{
    private static readonly HashSet<string> s_hallucinations = new(StringComparer.OrdinalIgnoreCase)
    {
        "you", "thank you", "thanks for watching", "thank you for watching", "bye", "okay", "so", "the end", "subtitles by the amara org community",
    };

    private readonly WhisperModel _model;
    private readonly WhisperSession _session;
    private readonly WhisperGrammar? _grammar;
    private readonly WhisperEngineOptions _options;
    private readonly string? _prompt;

    public WhisperEngine(string modelPath, WhisperEngineOptions options, IntentSet? intents, DeviceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        _options = options;
        _model = WhisperModel.Load(modelPath);
        try
        {
            _session = _model.CreateSession();
            _prompt = options.PromptWithNames ? NamesPrompt(registry) : null;
            if (options.CommandGrammar && intents is not null)
            {
                Grammar = CommandGrammar(intents, registry);
                _grammar = new WhisperGrammar(Grammar);
            }
        }
        catch
        {
            _model.Dispose();
            throw;
        }
    }

    public string Name => "whisper";

    public bool IsClosedSet => _grammar is not null;

    public GbnfGrammar? Grammar { get; }

    public WhisperModel Model => _model;

    public async Task<Transcript> TranscribeAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        var run = new WhisperRunOptions
        {
            Threads = _options.Threads,
            Language = _options.Language,
            BeamSize = _options.BeamSize,
            InitialPrompt = _prompt,
            SingleSegment = true,
            Timestamps = false,
            NoSpeechThreshold = _options.NoSpeechThreshold,
            Grammar = _grammar,
        };
        WhisperTranscript transcript;
        try
        {
            transcript = await _session.TranscribeToEndAsync(samples, run, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Transcript.Rejected(Name, $"took longer than {_options.Timeout.TotalSeconds:0.#} s", clock.Elapsed);
        }

        var text = transcript.Text;
        var segments = transcript.Segments;
        if (segments.Count == 0 || TextNormalizer.Tokenize(text).Length == 0)
        {
            return Transcript.Rejected(Name, "no speech", clock.Elapsed);
        }

        var noSpeech = segments.Max(s => s.NoSpeechProbability);
        var logProbability = segments.Average(s => s.AverageLogProbability);
        var confidence = Math.Exp(logProbability) * (1 - noSpeech);
        if (noSpeech > _options.NoSpeechThreshold)
        {
            return Transcript.Rejected(Name, $"no speech (probability {noSpeech:0.00})", clock.Elapsed, confidence) with { Text = text };
        }

        if (logProbability < _options.MinimumAverageLogProbability)
        {
            return Transcript.Rejected(Name, $"too unsure (average log-probability {logProbability:0.00})", clock.Elapsed, confidence) with { Text = text };
        }

        if (s_hallucinations.Contains(TextNormalizer.Normalize(text)))
        {
            return Transcript.Rejected(Name, $"\"{text}\" is what whisper says to noise", clock.Elapsed, confidence) with { Text = text };
        }

        return new Transcript(text, Name, confidence, null, clock.Elapsed, []);
    }

    /// <summary>Device and area names as the decoder's context, most distinctive first, within whisper's prompt budget.</summary>
    private static string? NamesPrompt(DeviceRegistry registry)
    {
        var names = registry.Areas.Select(a => a.Name).Concat(registry.Entities.Select(e => e.Name)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (names.Count == 0)
        {
            return null;
        }

        var prompt = new StringBuilder("Smart home commands for: ");
        foreach (var name in names)
        {
            if (prompt.Length + name.Length > 600)
            {
                break;
            }

            prompt.Append(name).Append(", ");
        }

        return prompt.ToString().TrimEnd(',', ' ') + ".";
    }

    /// <summary>
    /// The templates as a GBNF grammar in whisper's own writing: a leading space, any letter case,
    /// optional commas and a final full stop or question mark.
    /// </summary>
    public static GbnfGrammar CommandGrammar(IntentSet intents, DeviceRegistry registry)
    {
        var closed = JsgfGrammarBuilder.Build(intents, registry);
        return GbnfGrammar.Parse(JsgfToGbnf(closed.Jsgf));
    }

    /// <summary>Rewrites the JSGF rules the closed-set engine uses into GBNF (same structure, whisper's spelling).</summary>
    internal static string JsgfToGbnf(string jsgf)
    {
        var rules = new StringBuilder();
        var root = string.Empty;
        foreach (var line in jsgf.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#') || trimmed.StartsWith("grammar", StringComparison.Ordinal))
            {
                continue;
            }

            var isPublic = trimmed.StartsWith("public ", StringComparison.Ordinal);
            var body = (isPublic ? trimmed[7..] : trimmed).TrimEnd(';');
            var equals = body.IndexOf('=', StringComparison.Ordinal);
            var name = RuleName(body[..equals].Trim());
            var expression = Expression(body[(equals + 1)..].Trim());
            rules.Append(name).Append(" ::= ").Append(expression).Append('\n');
            if (isPublic)
            {
                root = name;
            }
        }

        return $"root ::= {root} [.?!]?\n{rules}";
    }

    private static string RuleName(string jsgfName) => "r-" + jsgfName.Trim('<', '>').Replace('_', '-');

    private static string Expression(string jsgf)
    {
        var output = new StringBuilder();
        foreach (var token in jsgf.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            output.Append(token switch
            {
                "(" or ")" or "|" => token,
                "[" => "(",
                "]" => ")?",
                "<NULL>" => "\"\"",
                "<VOID>" => "[^\\x00-\\U0010FFFF]",
                _ when token.StartsWith('<') => RuleName(token),
                _ => Word(token),
            }).Append(' ');
        }

        return output.ToString().TrimEnd();
    }

    /// <summary>" word" with any case on every letter and an optional comma after it.</summary>
    private static string Word(string word)
    {
        var builder = new StringBuilder("\" \" ");
        foreach (var c in word)
        {
            builder.Append(char.IsLetter(c) ? $"[{char.ToLowerInvariant(c)}{char.ToUpperInvariant(c)}]" : $"\"{(c == '"' ? "\\\"" : c.ToString())}\"");
        }

        return builder.Append(" \",\"?").ToString();
    }

    public void Dispose()
    {
        _session.Dispose();
        _grammar?.Dispose();
        _model.Dispose();
    }
}
