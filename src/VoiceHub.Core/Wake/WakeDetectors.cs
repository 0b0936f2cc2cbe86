using Microsoft.Extensions.Logging;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Models;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.Core.Wake;

/// <summary>Finds wake phrases in a stream of audio blocks. Not thread-safe: one audio loop owns it.</summary>
public interface IWakeDetector : IDisposable
{
    IReadOnlyList<string> Phrases { get; }

    /// <summary>Feeds a block of the stream; returns the wake phrases that ended in it.</summary>
    IReadOnlyList<WakeDetection> Process(AudioBlock block);

    /// <summary>Forgets the stream so far (a new input whose timestamps start again, e.g. the next file).</summary>
    void Reset();
}

/// <summary>
/// Makes the configured wake detector. With a wake model, or by default for the phrases (a model
/// trained for each from espeak-ng renderings), the neural detector with its checks (Silero VAD,
/// the phrase verifier); with <see cref="WakeOptions.Neural"/> off, the pocketsphinx keyword spotter.
/// </summary>
public static class WakeDetectors
{
    /// <param name="progress">Told what is being done (training a phrase's model).</param>
    /// <param name="warn">Told why a phrase may wake the hub by mistake.</param>
    /// <param name="cancellationToken">Stops the training of a phrase's model (about a minute).</param>
    public static IWakeDetector Create(WakeOptions options, ModelsOptions models, Action<string>? progress = null, Action<string>? warn = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(models);
        if (warn is not null && options.Model is not { Length: > 0 })
        {
            foreach (var warning in options.Phrases.SelectMany(p => WakePhraseAdvice.Warnings(p.Phrase)))
            {
                warn(warning);
            }
        }

        if (options.Model is not { Length: > 0 } && !options.Neural)
        {
            return new WakeWordDetector(models.PocketsphinxModelDirectory, options);
        }

        var directory = options.FeatureModelDirectory ?? WakeFeatureModels.DefaultDirectory();
        var features = WakeFeatureModels.Load(directory);
        var scorers = new List<(IWakeScorer Scorer, double Threshold)>();
        NeuralWakeDetector? detector = null;
        SileroVad? speech = null;
        try
        {
            if (options.Model is { Length: > 0 } model)
            {
                var scorer = WakeModels.Open(model);
                scorers.Add((scorer, options.ModelThreshold ?? scorer.DefaultThreshold));
            }
            else
            {
                foreach (var phrase in options.Phrases)
                {
                    scorers.Add((PhraseWakeModels.GetOrTrain(phrase.Phrase, features, models, progress, cancellationToken), options.ModelThreshold ?? PhraseWakeModels.Threshold(phrase.Sensitivity)));
                }
            }

            var checks = options.SpeechCheck || options.Verify;
            detector = new NeuralWakeDetector(features, scorers, checks ? TimeSpan.Zero : options.Refractory) { OwnsFeatures = true };
            if (!checks)
            {
                return detector;
            }

            speech = options.SpeechCheck ? SileroVad.Load(Path.Combine(directory, SileroVad.FileName)) : null;
            var verifier = options.Verify ? new PhraseVerifier(models.PocketsphinxModelDirectory, detector.Phrases) : null;
            return new VerifiedWakeDetector(detector, speech, verifier, options.VerifyThreshold, options.Refractory);
        }
        catch
        {
            speech?.Dispose();
            if (detector is not null)
            {
                detector.Dispose(); // its scorers and features with it
            }
            else
            {
                scorers.ForEach(s => s.Scorer.Dispose());
                features.Dispose();
            }

            throw;
        }
    }
}

/// <summary>
/// The hub's wake stage as configured, or none when no wake word is required. A wake model that
/// cannot be used is logged and the phrases are listened for instead; when the neural stage itself
/// cannot run (its models are missing), the pocketsphinx keyword spotter listens.
/// </summary>
public sealed partial class WakeStage : IDisposable
{
    private IWakeDetector? _detector;

    /// <param name="stateDirectory">Where a model the hub learned from its users is kept (<see cref="HubWakeEnrollment"/>): without a configured model, it is listened with.</param>
    /// <param name="startup">Told while a phrase's model trains before the hub is ready (systemd's start timeout is extended meanwhile).</param>
    /// <param name="stopping">The hub is stopping: a phrase's model in training (about a minute) is given up.</param>
    public WakeStage(bool required, WakeOptions wake, ModelsOptions models, ILogger logger, string? stateDirectory = null, Hosting.SystemdNotifier? startup = null, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(wake);
        var options = wake.Clone();
        if (required && stateDirectory is not null && HubWakeEnrollment.LearnablePhrase(options) is (string phrase, null)
            && HubWakeEnrollment.ModelPath(stateDirectory, phrase) is var learned && File.Exists(learned))
        {
            LogLearnedModel(logger, phrase, learned);
            options.Model = learned;
        }

        _detector = required ? CreateWithFallback(options, models, logger, startup, stopping) : null;
    }

    /// <summary>The detector made at start (null once retired, or when no wake word is required).</summary>
    public IWakeDetector? Detector => Volatile.Read(ref _detector);

    /// <summary>
    /// Frees the detector made at start once <paramref name="replaced"/> (it) is no longer listened
    /// with: a model learned from the hub's users replaced it, and its networks and decoder would
    /// otherwise stay in memory until the hub stops.
    /// </summary>
    public void Retire(IWakeDetector replaced)
    {
        ArgumentNullException.ThrowIfNull(replaced);
        if (Interlocked.CompareExchange(ref _detector, null, replaced) == replaced)
        {
            replaced.Dispose();
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _detector, null)?.Dispose();

    /// <param name="options">A copy: falling back must not change the options anything else reads.</param>
    private static IWakeDetector CreateWithFallback(WakeOptions options, ModelsOptions models, ILogger logger, Hosting.SystemdNotifier? startup, CancellationToken stopping)
    {
        IDisposable? keepStarting = null;
        void Training(string line)
        {
            LogWakeTraining(logger, line);
            keepStarting ??= startup?.KeepStarting("training the wake phrase's model (once)");
        }

        try
        {
            while (true)
            {
                try
                {
                    return WakeDetectors.Create(options, models, Training, line => LogWakePhraseAdvice(logger, line), stopping);
                }
                catch (Exception e) when (IsSetupFailure(e) && options.Model is not null)
                {
                    LogWakeModelUnusable(logger, e.Message);
                    options.Model = null;
                    options.ModelThreshold = null;
                }
                catch (Exception e) when (IsSetupFailure(e) && options.Neural)
                {
                    LogNeuralWakeUnusable(logger, e.Message);
                    options.Neural = false;
                }
            }
        }
        finally
        {
            keepStarting?.Dispose();
        }
    }

    /// <summary>What building the wake stage can fail with that another wake detector may not.</summary>
    private static bool IsSetupFailure(Exception e) =>
        e is WakeModelException or WakeEnrollmentException or IOException or UnauthorizedAccessException
            or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or Native.NativeEngineException;

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake: listening for \"{Phrase}\" with the model learned from its users, {Path} (delete it to go back to the phrase's own model)")]
    private static partial void LogLearnedModel(ILogger logger, string phrase, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Wake model not used, listening for the wake phrase instead: {Problem}")]
    private static partial void LogWakeModelUnusable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Neural wake stage not available, listening with the keyword spotter: {Problem}")]
    private static partial void LogNeuralWakeUnusable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Advice}")]
    private static partial void LogWakePhraseAdvice(ILogger logger, string advice);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake: {Line}")]
    private static partial void LogWakeTraining(ILogger logger, string line);
}
