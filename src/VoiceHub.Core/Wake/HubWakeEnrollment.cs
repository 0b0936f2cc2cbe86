using Microsoft.Extensions.Logging;
using VoiceHub.Core.Models;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.Core.Wake;

/// <summary>
/// Learns the wake phrase from the people who say it, while the hub runs (Home Assistant's "Learn
/// wake word" button): the hub asks for the phrase a few times through its own speaker and
/// microphone, trains a personal wake model on a thread of its own while it keeps listening with
/// the model it has, saves it in the state directory (where the wake stage finds it after a
/// restart) and listens with it. Whatever fails is said and logged once, and the hub keeps the
/// wake model it had.
/// </summary>
public sealed partial class HubWakeEnrollment : IDisposable
{
    /// <summary>How the reason begins when the sayings (some refused: too loud, cut short) took longer than the time allowed.</summary>
    private const string NotAllSaidInTime = "not all sayings";

    /// <summary>espeak-ng renderings of the phrase learned from besides the recordings (as <c>wake enroll</c> does by default).</summary>
    private const int Renderings = 40;

    private readonly VoicePipeline _pipeline;
    private readonly WakeOptions _wake;
    private readonly ModelsOptions _models;
    private readonly string _stateDirectory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping;
    private readonly Lock _lock = new();
    private Task _run = Task.CompletedTask;
    private bool _disposed;

    /// <param name="stopping">The hub is stopping: recording and training are given up.</param>
    public HubWakeEnrollment(VoicePipeline pipeline, WakeOptions wake, ModelsOptions models, string stateDirectory, ILogger logger, CancellationToken stopping)
    {
        _pipeline = pipeline;
        _wake = wake;
        _models = models;
        _stateDirectory = stateDirectory;
        _logger = logger;
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    /// <summary>The enrollment under way (or the last one), for whoever must wait for it.</summary>
    public Task Completion
    {
        get
        {
            lock (_lock)
            {
                return _run;
            }
        }
    }

    /// <summary>Where the model learned for <paramref name="phrase"/> is kept.</summary>
    public static string ModelPath(string stateDirectory, string phrase) =>
        Path.Combine(stateDirectory, "wake", $"{WakePhraseText.Normalize(phrase).Replace(' ', '_')}.wake");

    /// <summary>
    /// The phrase a model learned from the hub's users stands in for, or why there is none: the hub
    /// learns (and at start listens with what it learned) only for one phrase, with the neural stage,
    /// and without a wake model of the user's own choosing.
    /// </summary>
    public static (string? Phrase, string? WhyNot) LearnablePhrase(WakeOptions wake)
    {
        ArgumentNullException.ThrowIfNull(wake);
        return wake switch
        {
            { Model.Length: > 0 } => (null, "wake.model chooses the wake model"),
            { Neural: false } => (null, "wake.neural is off (the keyword spotter listens)"),
            { Phrases: [var only] } => (WakePhraseText.Normalize(only.Phrase), null),
            _ => (null, "it learns one wake phrase, and wake.phrases has " + wake.Phrases.Count),
        };
    }

    /// <summary>Starts learning the wake phrase, unless that is already under way.</summary>
    public void Request()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return; // a press while the hub stops
            }

            if (!_run.IsCompleted)
            {
                LogAlreadyEnrolling(_logger);
                return;
            }

            _run = RunAsync(); // the microphone is asked for before this returns; the rest runs on
        }
    }

    private async Task RunAsync()
    {
        if (!_pipeline.WakeRequired)
        {
            LogNotLearning(_logger, "the hub needs no wake word (pipeline.wakeRequired: false)");
            _pipeline.Announce("I need no wake word, so there is none to learn.");
            return;
        }

        var (phrase, whyNot) = LearnablePhrase(_wake);
        if (phrase is not { Length: > 0 })
        {
            LogNotLearning(_logger, whyNot ?? "no wake phrase");
            _pipeline.Announce("I cannot learn my wake word as I am set up. The log says why.");
            return;
        }

        var stopping = _stopping.Token;
        try
        {
            LogRecording(_logger, phrase, _wake.EnrollmentSayings);
            using var unanswered = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            unanswered.CancelAfter(TimeSpan.FromSeconds(20 * _wake.EnrollmentSayings)); // nobody answers the prompts
            List<EnrollmentClip> clips;
            try
            {
                clips = await _pipeline.RecordWakePhraseAsync(phrase, _wake.EnrollmentSayings, unanswered.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                throw new WakeEnrollmentException($"{NotAllSaidInTime} of \"{phrase}\" were heard within {20 * _wake.EnrollmentSayings} s");
            }

            _pipeline.Announce($"Thank you. I am learning {phrase} now; that takes a minute or two.");
            var started = TimeProvider.System.GetTimestamp();
            var detector = await Task.Factory.StartNew(() => Train(phrase, clips, stopping), stopping, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            _pipeline.ReplaceWake(detector);
            var seconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
            var path = ModelPath(_stateDirectory, phrase);
            LogLearned(_logger, phrase, clips.Count, seconds, path);
            _pipeline.Announce($"Done. Say {phrase} to wake me.");
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // the hub is stopping: nothing to tell
        }
        catch (WakeEnrollmentException e)
        {
            LogFailed(_logger, phrase, e.Message);
            _pipeline.Announce(e.Message switch
            {
                VoicePipeline.MicrophoneMuted => "My microphone is muted. Unmute it, then ask me again.",
                _ when e.Message.StartsWith(NotAllSaidInTime, StringComparison.Ordinal) => "I did not hear all the sayings in time. Ask me again when you are ready.",
                _ when e.Message.StartsWith(VoicePipeline.NoSoundFromMicrophone, StringComparison.Ordinal) => "I hear nothing from my microphone. Check it, then ask me again.",
                _ => $"Sorry, I could not learn {phrase}. I keep listening as before.",
            });
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
        {
            // Anything else (a model file, a native engine, the disk): said and logged, the hub listens on.
            LogFailed(_logger, phrase, $"{e.GetType().Name}: {e.Message}");
            _pipeline.Announce($"Sorry, I could not learn {phrase}. I keep listening as before.");
        }
    }

    /// <summary>Trains, saves and loads the personal model: the file is kept only once a detector could be made from it.</summary>
    private IWakeDetector Train(string phrase, List<EnrollmentClip> clips, CancellationToken cancellationToken)
    {
        var path = ModelPath(_stateDirectory, phrase);
        var trained = Path.ChangeExtension(path, ".new.wake");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var features = WakeFeatureModels.Load(_wake.FeatureModelDirectory ?? WakeFeatureModels.DefaultDirectory()))
        using (var model = WakeEnrollment.Train(features, phrase, clips, Renderings, _models.PocketsphinxModelDirectory, line => LogTraining(_logger, line), cancellationToken: cancellationToken))
        {
            model.Save(trained);
        }

        IWakeDetector? detector = null;
        try
        {
            var options = _wake.Clone();
            options.Model = trained;
            detector = WakeDetectors.Create(options, _models, cancellationToken: cancellationToken);
            File.Move(trained, path, overwrite: true);
            return detector;
        }
        catch
        {
            detector?.Dispose();
            File.Delete(trained);
            throw;
        }
    }

    /// <summary>Gives up an enrollment under way and waits (briefly) for its training to stop.</summary>
    public void Dispose()
    {
        Task run;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            run = _run;
        }

        _stopping.Cancel();
        // Never throws: the rest of the hub is disposed after this (a failed run was logged by itself).
        _ = Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5))).GetAwaiter().GetResult();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake enrollment: asking for \"{Phrase}\" {Count} times")]
    private static partial void LogRecording(ILogger logger, string phrase, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake enrollment: {Line}")]
    private static partial void LogTraining(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake enrollment: learned \"{Phrase}\" from {Clips} sayings in {Seconds:0} s; listening with {Path}")]
    private static partial void LogLearned(ILogger logger, string phrase, int clips, double seconds, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Wake enrollment of \"{Phrase}\" failed, the previous wake model stays: {Problem}")]
    private static partial void LogFailed(ILogger logger, string phrase, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Wake enrollment asked for while one is under way: ignored")]
    private static partial void LogAlreadyEnrolling(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Wake enrollment asked for, but the hub does not learn its wake word: {Reason}")]
    private static partial void LogNotLearning(ILogger logger, string reason);
}
