using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Language;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Thermal;

namespace VoiceHub.Core.Models;

/// <summary>
/// Everything one utterance is understood with: the speech engine and the intent recognizer
/// (with its language-model fallback) of one rung, built for one version of the intents and the
/// home. Immutable; the pipeline swaps whole sets between utterances. The speech engine and the
/// language model's weights may be shared with the set this one replaced (a change of the home
/// that the engine's grammar does not see): each is freed when the last set holding it is.
/// </summary>
public sealed class ModelSet : IDisposable
{
    private readonly Shared<ISpeechEngine> _engine;
    private readonly Shared<LanguageModel>? _llama;
    private int _disposed;

    internal ModelSet(int tier, TierOptions options, Shared<ISpeechEngine> engine, IntentRecognizer recognizer, DeviceRegistry registry, IntentSet intents, Shared<LanguageModel>? llama, SlmIntentFallback? slm)
    {
        Tier = tier;
        Options = options;
        _engine = engine;
        Recognizer = recognizer;
        Registry = registry;
        Intents = intents;
        _llama = llama;
        Slm = slm;
    }

    public int Tier { get; }

    public TierOptions Options { get; }

    public ISpeechEngine Engine => _engine.Value;

    public IntentRecognizer Recognizer { get; }

    public DeviceRegistry Registry { get; }

    public IntentSet Intents { get; }

    public LanguageModel? Llama => _llama?.Value;

    public SlmIntentFallback? Slm { get; }

    /// <summary>"default: stt whisper, slm Q4_K_M" as Home Assistant shows it.</summary>
    public string Description => $"{Options.Name}: stt {Engine.Name}, slm {(Llama is null ? "none" : Llama.FileTypeName)}";

    internal Shared<ISpeechEngine> SharedEngine => _engine;

    internal Shared<LanguageModel>? SharedLlama => _llama;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Slm?.Dispose();
        _llama?.Release();
        _engine.Release();
    }
}

/// <summary>A model held by one or more sets; disposed when the last of them lets go.</summary>
internal sealed class Shared<T>(T value)
    where T : class, IDisposable
{
    private int _holders = 1;

    public T Value { get; } = value;

    /// <summary>One more set holds it; false when it has already been freed.</summary>
    public bool TryAddHolder()
    {
        int holders;
        do
        {
            holders = Volatile.Read(ref _holders);
            if (holders == 0)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _holders, holders + 1, holders) != holders);
        return true;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            Value.Dispose();
        }
    }
}

/// <summary>
/// Builds <see cref="ModelSet"/>s off the audio path and hands the newest to the pipeline when it
/// asks between utterances: after a rung change, an intents or devices reload, or a change of the
/// home learned by discovery. The previous set serves until the swap, so no utterance waits for a
/// build or is dropped by one; a build that fails leaves the previous set in place. When the
/// preload budget does not allow two sets at once, the pipeline falls to the closed-set floor
/// (always cheap to build) while the heavy set loads.
/// </summary>
public sealed partial class ModelSets : IDisposable
{
    private readonly ModelsOptions _models;
    private readonly SpeechOptions _speech;
    private readonly WhisperEngineOptions _whisper;
    private readonly PocketsphinxEngineOptions _pocketsphinx;
    private readonly SlmOptions _slm;
    private readonly SchedulerOptions _scheduler;
    private readonly IEntityStates? _states;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _building = new(1, 1);
    private readonly TaskCompletionSource _initialBuilt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ModelSet? _current;
    private ModelSet? _pending;
    private IntentSet _intents;
    private DeviceRegistry _registry;
    private int _tier;
    private long _version;

    public ModelSets(IntentSet intents, DeviceRegistry registry, ModelsOptions models, SpeechOptions speech, WhisperEngineOptions whisper, PocketsphinxEngineOptions pocketsphinx, SlmOptions slm, SchedulerOptions scheduler, ILogger logger, IEntityStates? states = null)
    {
        _intents = intents;
        _registry = registry;
        _models = models;
        _speech = speech;
        _whisper = whisper;
        _pocketsphinx = pocketsphinx;
        _slm = slm;
        _scheduler = scheduler;
        _states = states;
        _logger = logger;
        Tiers = BuildLadder(scheduler, slm);
    }

    /// <summary>The rungs, best first; the last is always closed-set speech with templates only.</summary>
    public IReadOnlyList<TierOptions> Tiers { get; }

    /// <summary>Time the last swap's build took, for the tier-switch benchmark.</summary>
    public TimeSpan LastBuildTime { get; private set; }

    /// <summary>Raised after a build failed (the previous set stays).</summary>
    public event Action<string>? BuildFailed;

    public ModelSet Current => _current ?? throw new InvalidOperationException("no model set built yet: call BuildInitial first");

    public static IReadOnlyList<TierOptions> BuildLadder(SchedulerOptions scheduler, SlmOptions slm)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        var floor = new TierOptions { Name = "closed-set", Stt = "pocketsphinx", SlmModel = "none" };
        var tiers = scheduler.Tiers.Count > 0 ? [.. scheduler.Tiers] : new List<TierOptions> { new() { Name = "configured" } };
        if (!tiers.Any(t => t.Stt == "pocketsphinx" && t.SlmModel == "none"))
        {
            tiers.Add(floor);
        }

        return tiers;
    }

    /// <summary>Builds the first set synchronously (start-up), at the given rung, falling down the ladder past rungs that cannot load.</summary>
    /// <remarks>
    /// An update asked for before or meanwhile (discovery's retained configs arrive at once) waits
    /// for this set and then reuses its models, instead of loading a second set beside it.
    /// </remarks>
    public ModelSet BuildInitial(int tier = 0)
    {
        _building.Wait();
        try
        {
            for (var t = tier; t < Tiers.Count; t++)
            {
                try
                {
                    IntentSet intents;
                    DeviceRegistry registry;
                    lock (_lock)
                    {
                        _tier = t;
                        (intents, registry) = (_intents, _registry);
                    }

                    var built = Build(t, intents, registry);
                    lock (_lock)
                    {
                        _current = built;
                    }

                    _initialBuilt.TrySetResult();
                    return built;
                }
                catch (Exception e) when (IsBuildFailure(e) && t < Tiers.Count - 1)
                {
                    LogRungUnavailable(_logger, Tiers[t].Name, e.Message);
                }
            }

            throw new InvalidOperationException("no rung could be built");
        }
        finally
        {
            _building.Release();
        }
    }

    /// <summary>Moves to another rung: built in the background, swapped in between utterances.</summary>
    public Task SwitchTierAsync(int tier) => RebuildAsync(tier, null, null);

    /// <summary>The intents or devices were reloaded, or discovery changed the home.</summary>
    public Task UpdateAsync(IntentSet? intents, DeviceRegistry? registry) => RebuildAsync(null, intents, registry, reuseModels: true);

    /// <summary>Builds the current rung afresh (after an engine failed), wherever the scheduler has moved it.</summary>
    public Task RebuildCurrentAsync() => RebuildAsync(null, null, null);

    /// <summary>Called by the pipeline when idle: returns the set to use now, after swapping in a newer one.</summary>
    public ModelSet TakeCurrent()
    {
        ModelSet? retired = null;
        lock (_lock)
        {
            if (_pending is not null)
            {
                retired = _current;
                _current = _pending;
                _pending = null;
            }
        }

        if (retired is not null && !ReferenceEquals(retired, _current))
        {
            // Freeing models takes a while: not on the audio thread, at the moment the hub wakes.
            _ = Task.Run(retired.Dispose);
        }

        return Current;
    }

    private async Task RebuildAsync(int? tier, IntentSet? intents, DeviceRegistry? registry, bool reuseModels = false)
    {
        // Every request is recorded at once, so a request superseded while a build runs is not lost:
        // the newest build takes all of them.
        lock (_lock)
        {
            _tier = tier ?? _tier;
            _intents = intents ?? _intents;
            _registry = registry ?? _registry;
        }

        var version = Interlocked.Increment(ref _version);
        await _initialBuilt.Task.ConfigureAwait(false);
        await _building.WaitAsync().ConfigureAwait(false);
        try
        {
            if (version != Interlocked.Read(ref _version))
            {
                return; // a newer request supersedes this one; it builds with everything
            }

            var heavy = _tier < Tiers.Count - 1;
            if (tier is not null && heavy && !CanPreload(_tier))
            {
                // Not enough memory for two sets: serve from the closed-set floor while the rung loads.
                Offer(await Task.Run(() => Build(Tiers.Count - 1, _intents, _registry)).ConfigureAwait(false));
            }

            var clock = Stopwatch.StartNew();
            // A change of the home alone keeps the loaded models the newest set has, where they still fit.
            ModelSet? donor;
            lock (_lock)
            {
                donor = reuseModels ? _pending ?? _current : null;
            }

            var built = await Task.Run(() => Build(_tier, _intents, _registry, donor)).ConfigureAwait(false);
            LastBuildTime = clock.Elapsed;
            Offer(built);
        }
        catch (Exception e) when (IsBuildFailure(e))
        {
            LogBuildFailed(_logger, Tiers[_tier].Name, e.Message);
            BuildFailed?.Invoke(e.Message);
        }
        finally
        {
            _building.Release();
        }
    }

    private void Offer(ModelSet built)
    {
        ModelSet? superseded;
        lock (_lock)
        {
            superseded = _pending;
            _pending = built;
        }

        superseded?.Dispose();
    }

    private bool CanPreload(int tier)
    {
        var budget = _scheduler.PreloadBudgetBytes;
        if (budget <= 0)
        {
            return true; // no budget configured: memory is not the constraint
        }

        // What the rung's models take once loaded and in use (file, caches and buffers), not only their files.
        var resident = new[] { Tiers[tier].SlmModel is { Length: > 0 } slm && slm != "none" ? slm : _slm.Model, WhisperModel(Tiers[tier]) }
            .Where(f => f.Length > 0 && f != "none")
            .Select(f => ModelPaths.Resolve(f, _models))
            .Where(File.Exists)
            .Sum(f => Models.ModelFootprint.EstimateBytes(f, _slm.ContextTokens));
        return resident <= budget;
    }

    private string WhisperModel(TierOptions tier) => tier.WhisperModel.Length > 0 ? tier.WhisperModel : _whisper.Model;

    private ModelSet Build(int tier, IntentSet intents, DeviceRegistry registry, ModelSet? donor = null)
    {
        var options = Tiers[tier];
        var whisper = new WhisperEngineOptions
        {
            Model = WhisperModel(options),
            Language = _whisper.Language,
            Threads = options.Threads > 0 ? options.Threads : _whisper.Threads,
            BeamSize = _whisper.BeamSize,
            FlashAttention = _whisper.FlashAttention,
            MaxTokens = _whisper.MaxTokens,
            PromptWithNames = _whisper.PromptWithNames,
            NoSpeechThreshold = _whisper.NoSpeechThreshold,
            MinimumAverageLogProbability = _whisper.MinimumAverageLogProbability,
            Timeout = _whisper.Timeout,
        };
        var stt = options.Stt == "auto" ? _speech.Engine : options.Stt;
        // Same rung, same intents: the donor's engine serves if its grammar would not change (a closed-set
        // grammar spells only the first entities), and its language model's weights serve as they are.
        var sameRung = donor is not null && donor.Tier == tier && ReferenceEquals(donor.Intents, intents);
        Shared<LanguageModel>? llama = null;
        SlmIntentFallback? slm = null;
        Shared<ISpeechEngine>? engine = null;
        try
        {
            engine = sameRung && donor!.Engine is PocketsphinxCommandEngine heard && heard.WouldHear(registry) && donor.SharedEngine.TryAddHolder()
                ? donor.SharedEngine
                : new Shared<ISpeechEngine>(SpeechEngines.Create(stt, _models, _pocketsphinx, whisper, intents, registry));
            if (engine.Value is PocketsphinxCommandEngine { GrammarRegistry: var spelled } && spelled.Entities.Count < registry.Entities.Count && !ReferenceEquals(engine, donor?.SharedEngine))
            {
                LogGrammarCapped(_logger, registry.Entities.Count, spelled.Entities.Count);
            }

            var slmModel = options.SlmModel.Length > 0 ? options.SlmModel : _slm.Model;
            if (slmModel.Length > 0 && slmModel != "none")
            {
                llama = sameRung && donor!.SharedLlama is { } loaded && loaded.TryAddHolder()
                    ? loaded
                    : new Shared<LanguageModel>(LanguageModel.Load(ModelPaths.Resolve(slmModel, _models)));
                var slmOptions = new SlmOptions
                {
                    Model = slmModel,
                    Candidates = _slm.Candidates,
                    MaxTokens = _slm.MaxTokens,
                    Timeout = _slm.Timeout,
                    ContextTokens = _slm.ContextTokens,
                    Threads = options.Threads > 0 ? options.Threads : _slm.Threads,
                    Temperature = _slm.Temperature,
                    Seed = _slm.Seed,
                };
                slm = new SlmIntentFallback(llama.Value, registry, intents, slmOptions);
            }

            var recognizer = IntentRecognizer.Create(intents, registry, fallback: slm, states: _states, sameIntentsAs: donor?.Recognizer);
            recognizer.Prepare(); // built with the models, off the audio thread (a device reload reuses what it learnt)
            var set = new ModelSet(tier, options, engine, recognizer, registry, intents, llama, slm);
            LogBuilt(_logger, set.Description);
            return set;
        }
        catch
        {
            slm?.Dispose();
            llama?.Release();
            engine?.Release();
            throw;
        }
    }

    private static bool IsBuildFailure(Exception e) =>
        e is IOException or ArgumentException or InvalidOperationException or Native.NativeEngineException or Native.ModelFormatException or Native.NativeLibraryNotFoundException or UnauthorizedAccessException;

    public void Dispose()
    {
        lock (_lock)
        {
            _pending?.Dispose();
            _current?.Dispose();
            _pending = null;
            _current = null;
        }

        _building.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The home has {Entities} entities; the closed-set speech grammar names {Heard} of them (the devices file's first; speech.pocketsphinx.maxGrammarEntities). All of them are understood as text and by the whisper tier")]
    private static partial void LogGrammarCapped(ILogger logger, int entities, int heard);

    [LoggerMessage(Level = LogLevel.Information, Message = "Models ready: {Description}")]
    private static partial void LogBuilt(ILogger logger, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rung {Tier} cannot be used ({Reason}); trying the next one")]
    private static partial void LogRungUnavailable(ILogger logger, string tier, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Building the models of rung {Tier} failed: {Reason}; keeping the previous ones")]
    private static partial void LogBuildFailed(ILogger logger, string tier, string reason);
}
