using System.Diagnostics;
using System.Text;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Native.ModelFiles;
using Whisper.net;
using Whisper.net.LibraryLoader;

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

    /// <summary>Put device and area names in the initial prompt so whisper spells them as the registry does.</summary>
    public bool PromptWithNames { get; set; } = true;

    /// <summary>Above this no-speech probability a segment is silence.</summary>
    public float NoSpeechThreshold { get; set; } = 0.6f;

    /// <summary>Below this log of the average token probability a transcript is too unsure to act on.</summary>
    public float MinimumAverageLogProbability { get; set; } = -1.0f;

    /// <summary>Most tokens decoded for one utterance: a spoken command is far shorter, and babble stops here.</summary>
    [System.ComponentModel.DataAnnotations.Range(8, 448)]
    public int MaxTokens { get; set; } = 64;

    /// <summary>Flash attention in the encoder: about a third faster on a 2-core CPU, the same transcripts.</summary>
    public bool FlashAttention { get; set; } = true;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Open speech with whisper.cpp through Whisper.net: one model and one processor, runs serialized
/// (a whisper state is not re-entrant). The model file is checked in managed code before
/// whisper.cpp sees it. The initial prompt carries the home's device and area names so they come
/// out spelled right. Silence, noise and unsure transcripts are rejected (whisper.cpp's no-speech
/// test, the average token probability, known hallucinations) so that a wrong command is never
/// produced from them; a run that outlasts its timeout is cancelled, which reaches whisper.cpp's abort callback.
/// </summary>
public sealed class WhisperEngine : ISpeechEngine
{
    private static readonly HashSet<string> s_hallucinations = new(StringComparer.OrdinalIgnoreCase)
    {
        "you", "thank you", "thanks for watching", "thank you for watching", "bye", "okay", "so", "the end", "subtitles by the amara org community",
    };

    private readonly WhisperFactory _factory;
    private readonly WhisperProcessor _processor;
    private readonly SemaphoreSlim _serial = new(1, 1);
    private readonly WhisperEngineOptions _options;

    static WhisperEngine()
    {
        // The appliance has no GPU: load the CPU runtime without probing CUDA and Vulkan first.
        RuntimeOptions.RuntimeLibraryOrder = [RuntimeLibrary.Cpu, RuntimeLibrary.CpuNoAvx];
    }

    public WhisperEngine(string modelPath, WhisperEngineOptions options, IntentSet? intents, DeviceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        _options = options;
        ModelFile = WhisperModelFile.Read(modelPath); // whisper.cpp aborts the process on some bad files: never hand it one
        _factory = WhisperFactory.FromPath(modelPath, new WhisperFactoryOptions { UseFlashAttention = options.FlashAttention });
        try
        {
            var builder = _factory.CreateBuilder()
                .WithThreads(options.Threads)
                .WithLanguage(options.Language)
                .WithSingleSegment()
                .WithNoContext()
                .WithNoSpeechThreshold(options.NoSpeechThreshold)
                .WithMaxTokensPerSegment(options.MaxTokens)
                .WithProbabilities();
            if (options.PromptWithNames && NamesPrompt(registry) is { } prompt)
            {
                builder = builder.WithPrompt(prompt);
            }

            if (options.BeamSize > 1)
            {
                builder = builder.WithBeamSearchSamplingStrategy(b => b.WithBeamSize(options.BeamSize));
            }

            _processor = builder.Build();
        }
        catch
        {
            _factory.Dispose();
            throw;
        }
    }

    public string Name => "whisper";

    public bool IsClosedSet => false;

    /// <summary>The model file as checked before loading (size, hyper-parameters, weight type).</summary>
    public WhisperModelFile ModelFile { get; }

    /// <summary>What Whisper.net loaded: the native library and the CPU features it uses.</summary>
    public static string RuntimeInfo => WhisperFactory.GetRuntimeInfo() ?? "not loaded yet";

    public async Task<Transcript> TranscribeAsync(ReadOnlyMemory<float> samples, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var segments = new List<SegmentData>();
        await _serial.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            deadline.CancelAfter(_options.Timeout); // the run's own time, not the wait for an earlier one
            await foreach (var segment in _processor.ProcessAsync(samples, deadline.Token).ConfigureAwait(false))
            {
                segments.Add(segment);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Transcript.Rejected(Name, $"took longer than {_options.Timeout.TotalSeconds:0.#} s", clock.Elapsed);
        }
        finally
        {
            _serial.Release();
        }

        var text = string.Concat(segments.Select(s => s.Text)).Trim();
        if (segments.Count == 0 || TextNormalizer.Tokenize(text).Length == 0)
        {
            return Transcript.Rejected(Name, "no speech", clock.Elapsed); // whisper.cpp's own no-speech test emptied it
        }

        var probability = segments.Average(s => s.Probability);
        var logProbability = Math.Log(Math.Max(probability, 1e-9));
        if (logProbability < _options.MinimumAverageLogProbability)
        {
            return Transcript.Rejected(Name, $"too unsure (average token probability {probability:0.00})", clock.Elapsed, probability) with { Text = text };
        }

        if (s_hallucinations.Contains(TextNormalizer.Normalize(text)))
        {
            return Transcript.Rejected(Name, $"\"{text}\" is what whisper says to noise", clock.Elapsed, probability) with { Text = text };
        }

        return new Transcript(text, Name, probability, null, clock.Elapsed, []);
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

    public void Dispose()
    {
        // A cancelled run may still be unwinding in whisper.cpp: the asynchronous disposal waits for it.
        _processor.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _factory.Dispose();
        _serial.Dispose();
    }
}
