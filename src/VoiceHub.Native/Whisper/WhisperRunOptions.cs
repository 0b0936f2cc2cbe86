namespace VoiceHub.Native.Whisper;

/// <summary>Parameters of one transcription (a subset of <c>whisper_full_params</c>, with units in names).</summary>
public sealed record WhisperRunOptions
{
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>ISO 639-1 code ("en"), or "auto" to detect it (multilingual models only).</summary>
    public string Language { get; init; } = "en";

    /// <summary>Text the decoder sees as if it came before the audio: spellings of names help.</summary>
    public string? InitialPrompt { get; init; }

    /// <summary>Beam width; 1 decodes greedily.</summary>
    public int BeamSize { get; init; } = 1;

    /// <summary>Tokens per segment limit; 0 means none.</summary>
    public int MaxTokens { get; init; }

    /// <summary>Decode timestamp tokens; without them a command decodes faster and a grammar steers every token.</summary>
    public bool Timestamps { get; init; } = true;

    /// <summary>Force a single segment (commands are short).</summary>
    public bool SingleSegment { get; init; }

    /// <summary>Above this no-speech probability (and below <see cref="LogProbabilityThreshold"/>) a segment counts as silence.</summary>
    public float NoSpeechThreshold { get; init; } = 0.6f;

    /// <summary>Average token log-probability under which decoding is retried at a higher temperature.</summary>
    public float LogProbabilityThreshold { get; init; } = -1.0f;

    /// <summary>0 disables temperature fallback (deterministic, faster).</summary>
    public float TemperatureIncrement { get; init; } = 0.2f;

    /// <summary>Grammar-guided decoding; the run holds no ownership of it.</summary>
    public WhisperGrammar? Grammar { get; init; }
}

/// <summary>One transcribed segment with its timing and confidence.</summary>
public sealed record WhisperSegment(
    TimeSpan Start,
    TimeSpan End,
    string Text,
    float NoSpeechProbability,
    float AverageLogProbability,
    float MinimumTokenProbability);
