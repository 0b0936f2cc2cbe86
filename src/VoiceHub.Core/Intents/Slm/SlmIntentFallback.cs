using System.Diagnostics;
using System.Text;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Language;

namespace VoiceHub.Core.Intents.Slm;

/// <summary>How the language-model fallback runs (section <c>slm</c>).</summary>
public sealed class SlmOptions
{
    public const string Section = "slm";

    /// <summary>GGUF file (a name in the models directory, or a path); empty disables the fallback.</summary>
    public string Model { get; set; } = string.Empty;

    /// <summary>Entities offered to the model per utterance, whatever the size of the home.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64)]
    public int Candidates { get; set; } = 8;

    [System.ComponentModel.DataAnnotations.Range(8, 256)]
    public int MaxTokens { get; set; } = 48;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(4);

    [System.ComponentModel.DataAnnotations.Range(256, 32768)]
    public int ContextTokens { get; set; } = 2048;

    [System.ComponentModel.DataAnnotations.Range(1, 64)]
    public int Threads { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>0 picks the most likely token; tests raise it to explore the grammar.</summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 2.0)]
    public float Temperature { get; set; }

    public uint Seed { get; set; } = 42;
}

/// <summary>What one fallback call did, for traces and tests.</summary>
public sealed record SlmTrace(string Prompt, int PromptTokens, long PromptTokensEvaluated, string Answer, double Milliseconds, bool TimedOut, CommandSchema Schema);

/// <summary>
/// Understands sentences no template matches with a small language model whose output a grammar
/// built from the registry bounds (<see cref="CommandSchema"/>). The prompt starts with a fixed
/// part (instructions, intents, areas) that depends only on the registry; the KV cache keeps it
/// between utterances, so only the shortlisted devices and the sentence are evaluated each time.
/// Output is limited in tokens and in time; a timeout or an answer outside the grammar is "none".
/// </summary>
public sealed class SlmIntentFallback : IIntentFallback, IDisposable
{
    private readonly LanguageModel _model;
    private readonly LanguageContext _context;
    private readonly SlmOptions _options;
    private readonly IReadOnlyList<string> _colors;
    private DeviceRegistry _registry;
    private string _system;
    private uint _calls;

    public SlmIntentFallback(LanguageModel model, DeviceRegistry registry, IntentSet intents, SlmOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(intents);
        _model = model;
        _registry = registry;
        _options = options;
        _colors = intents.Lists.GetValueOrDefault("color") is ValuesList colors ? [.. colors.Values.Select(v => v.Out.ToString()!).Distinct()] : [];
        _context = model.CreateContext(new LanguageContextOptions { ContextTokens = options.ContextTokens, Threads = options.Threads, BatchTokens = 512 });
        _system = SystemPrompt(registry);
    }

    /// <summary>The last call's trace (prompt size, tokens actually evaluated, answer).</summary>
    public SlmTrace? LastTrace { get; private set; }

    public LanguageContext Context => _context;

    /// <summary>The prompt's fixed part: instructions, intents and areas. It changes only with the registry.</summary>
    public string SystemPart => _system;

    /// <summary>
    /// Uses a new registry from the next utterance on. The prompt's fixed part changes with it, so
    /// the KV cache keeps only what the old and new prompts still share.
    /// </summary>
    public void Update(DeviceRegistry registry)
    {
        _registry = registry;
        _system = SystemPrompt(registry);
    }

    /// <summary>Evaluates the fixed part of the prompt now, so the first command does not pay for it.</summary>
    public Task WarmUpAsync(CancellationToken cancellationToken = default) =>
        _context.EvaluateAsync(_model.Tokenize(Render(_system, null), addSpecial: true), cancellationToken);

    public async Task<IntentCandidate?> RecognizeAsync(string text, IReadOnlyDictionary<string, string> context, CancellationToken cancellationToken)
    {
        var candidates = Shortlist.Select(_registry, text, _options.Candidates);
        var schema = new CommandSchema(_registry, candidates, _colors);
        var user = new StringBuilder();
        user.Append("Devices:");
        foreach (var entity in candidates)
        {
            user.Append($"\n- {entity.Name} ({entity.Domain}{(_registry.AreaOf(entity) is { } area ? ", " + area.Name : string.Empty)})");
        }

        if (candidates.Count == 0)
        {
            user.Append(" none match");
        }

        if (context.TryGetValue("area", out var here))
        {
            user.Append($"\nSpeaker is in: {here}");
        }

        user.Append($"\nCommand: {text}");
        var prompt = Render(_system, user.ToString());
        var tokens = _model.Tokenize(prompt, addSpecial: true);
        using var sampler = new LanguageSampler(_model, new LanguageSamplerOptions { Grammar = schema.Grammar, Temperature = _options.Temperature, TopK = 0, TopP = 1f, Seed = _options.Seed + _calls++ });
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        var before = _context.PromptTokensEvaluated;
        var clock = Stopwatch.StartNew();
        string answer;
        var timedOut = false;
        try
        {
            answer = await _context.GenerateTextAsync(tokens, sampler, _options.MaxTokens, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            answer = string.Empty;
            timedOut = true;
        }

        LastTrace = new SlmTrace(prompt, tokens.Length, _context.PromptTokensEvaluated - before, answer, clock.Elapsed.TotalMilliseconds, timedOut, schema);
        return timedOut ? null : schema.Interpret(answer);
    }

    /// <summary>The conversation in the model's own chat format, or a plain layout when it has none.</summary>
    private string Render(string system, string? user)
    {
        if (_model.ChatTemplate is not null)
        {
            var messages = new List<(string, string)> { ("system", system) };
            if (user is null)
            {
                return _model.ApplyChatTemplate(messages, addAssistantPrefix: false);
            }

            messages.Add(("user", user));
            return _model.ApplyChatTemplate(messages);
        }

        return user is null ? system + "\n\n" : $"{system}\n\n{user}\nJSON:";
    }

    private static string SystemPrompt(DeviceRegistry registry)
    {
        var prompt = new StringBuilder();
        prompt.Append("You turn a spoken smart-home command into one JSON object. ");
        prompt.Append("Use only the intents below and only the devices and areas you are given. ");
        prompt.Append("If the command asks for anything else, answer {\"intent\": \"none\"}.\nIntents:");
        foreach (var (intent, meaning) in CommandSchema.Intents)
        {
            prompt.Append($"\n- {intent}: {meaning}");
        }

        prompt.Append("\nAreas: ").Append(string.Join(", ", registry.Areas.Select(a => a.Name)));
        prompt.Append("\nExamples:\nCommand: could you make the desk lamp a bit dimmer, like 30\n{\"intent\": \"HassLightSet\", \"name\": \"Desk lamp\", \"brightness\": 30}");
        prompt.Append("\nCommand: it's dark in the kitchen\n{\"intent\": \"HassTurnOn\", \"area\": \"Kitchen\", \"domain\": \"light\"}");
        prompt.Append("\nCommand: tell me a joke\n{\"intent\": \"none\"}");
        return prompt.ToString();
    }

    public void Dispose() => _context.Dispose();
}
