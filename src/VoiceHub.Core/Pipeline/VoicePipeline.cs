using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Dialog;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Templates;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Wake;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.Core.Pipeline;

/// <summary>
/// The appliance's conversation as an explicit state machine over the audio stream:
/// listening → woken → hearing → transcribing → understanding → acting → answering →
/// (follow-up window) → listening. One task runs it; stages run in turn, each timed, each
/// guarded: a stage that throws is logged, answered with an apology and an alarm blink, its
/// engine rebuilt, and the hub goes back to listening. With echo cancellation (a speaker that
/// feeds back what it plays) the hub keeps listening while it talks: the wake word cuts the answer
/// short and starts a command, and a stop word (or the answer to its question) is heard without
/// it; anything else said over the answer is left alone. Without it, the microphone is ignored
/// while the hub speaks. Always while it is muted. Model sets change only here, between utterances.
/// </summary>
public sealed partial class VoicePipeline : IDisposable
{
    /// <summary>Last words after which a command may go on after a pause ("twenty ... one", "one hundred ... and five").</summary>
    private static readonly HashSet<string> s_mayGoOn = new(StringComparer.Ordinal)
    {
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "point", "and",
    };

    private readonly PipelineOptions _options;
    private IWakeDetector? _wake;
    private IWakeDetector? _replacedWake; // handed in by ReplaceWake: the pipeline owns it
    private IWakeDetector? _nextWake; // handed in, not yet taken by the audio loop
    private LentMicrophone? _lent; // set while the wake phrase is being recorded
    private readonly ConcurrentQueue<string> _announcements = new();
    private readonly VadOptions _vadOptions;
    private readonly VoiceActivityDetector _vad;
    private readonly VoiceMeter? _voice; // how much voice the utterance being heard holds
    private readonly ModelSets _models;
    private readonly Actuator _actuator;
    private readonly ISpeaker _speaker;
    private readonly HubStatus _status;
    private readonly DialogPolicy _dialog;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly AudioRingBuffer _ring;
    private Phase _phase = Phase.Listening;
    private TimeSpan _utteranceStart;
    private TimeSpan _vadBase;
    private TimeSpan _followUpUntil;
    private bool _woken;
    private long _utterances;
    private long _busySince;
    private long _lastBlockTimestamp; // of _clock, when the audio loop last took a block
    private bool _realTime;
    private ModelSet? _set;
    private IUtteranceDecoding? _stream;
    private TimeSpan _streamNow;
    private TimeSpan _ignoreUntil;
    private readonly EchoFrontEnd? _echo;
    private readonly Diagnostics.DebugRecorder? _recorder;
    private Task<bool> _answer = Task.FromResult(false); // true: it overran its time (the sound card may be stuck)
    private CancellationTokenSource _answerCancel = new();
    private bool _heardOverAnswer;
    private float[] _silence = [];
    private bool _pushToTalk;
    private bool _talkPressed; // the audio loop has seen push-to-talk held (its own copy: the button's thread writes _pushToTalk)
    private PipelineState _shownIdle;

    public VoicePipeline(PipelineOptions options, VadOptions vad, IWakeDetector? wake, ModelSets models, Actuator actuator, ISpeaker speaker, HubStatus status, TimerService timers, ILogger logger, TimeProvider? clock = null, EchoCancellationOptions? echo = null, Diagnostics.DebugRecorder? recorder = null)
    {
        _options = options;
        _wake = options.WakeRequired ? wake ?? throw new ArgumentException("a wake word detector is needed when the wake word is required", nameof(wake)) : null;
        _vad = VoiceActivityDetector.Create(vad, problem => LogSileroUnavailable(logger, problem));
        _vadOptions = vad;
        _models = models;
        _actuator = actuator;
        _speaker = speaker;
        _status = status;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _ring = new AudioRingBuffer(vad.MaximumUtterance + TimeSpan.FromSeconds(4));
        _dialog = new DialogPolicy(options, timers, logger, _clock);
        _echo = CreateEchoFrontEnd(echo, speaker.Feed, logger);
        // With Silero endpointing one network judges both, unless a canceller may hand the endpointing
        // silence for blocks it gives to the hub's own voice: the voice check counts the real ones.
        _voice = VoiceMeter.Create(vad, problem => LogVoiceCheckUnavailable(logger, problem), _echo is null ? _vad : null);
        _recorder = recorder is { Enabled: true } ? recorder : null;
    }

    private static EchoFrontEnd? CreateEchoFrontEnd(EchoCancellationOptions? options, SpeakerFeed? feed, ILogger logger)
    {
        if (options is not { Enabled: true } || feed is null)
        {
            return null;
        }

        try
        {
            return new EchoFrontEnd(feed, options, problem => LogEchoReference(logger, problem), note => LogEchoNote(logger, note));
        }
        catch (Exception e) when (e is DllNotFoundException or Native.NativeLibraryNotFoundException or Native.NativeEngineException)
        {
            LogNoEchoCancellation(logger, e.Message);
            return null;
        }
    }

    /// <summary>Speech after a wake word shorter than this, then a pause, is the word's tail, not a command.</summary>
    private static readonly TimeSpan WakeTailBurst = TimeSpan.FromMilliseconds(300);

    /// <summary>Audio kept after the last voiced frame: a word's soft ending (a final "t", an "s").</summary>
    private static readonly TimeSpan EndPad = TimeSpan.FromMilliseconds(200);

    /// <summary>How long into a follow-up utterance a wake word still restarts it.</summary>
    private static readonly TimeSpan FollowUpWakeWindow = TimeSpan.FromSeconds(2);

    /// <summary>How long a wake word lasts, at most: someone must have been heard within it for it to count over the hub's own sound.</summary>
    private static readonly TimeSpan WakeWordLength = TimeSpan.FromSeconds(1.2);

    /// <summary>
    /// A recording of the wake phrase gives up when the audio loop has had no block from the
    /// microphone this long (a microphone gone, or being reconnected): not after every prompt's
    /// wait. Longer than the slowest command the loop handles between blocks.
    /// </summary>
    private static readonly TimeSpan MicrophoneSilenceLimit = TimeSpan.FromSeconds(10);

    /// <summary>
    /// While an alarm rings the hub listens without the wake word ("stop"); once it stops, or gives up
    /// with nobody home, that lasts at most this long after the hub last heard something.
    /// </summary>
    private static readonly TimeSpan AlarmFollowUp = TimeSpan.FromSeconds(30);

    /// <summary>Sound before push-to-talk was pressed that still counts (the first syllable may come with the press).</summary>
    private static readonly TimeSpan PushToTalkReplay = TimeSpan.FromMilliseconds(300);

    /// <summary>How much of the wake word may still follow the end the spotter reports.</summary>
    private static readonly TimeSpan WakeTail = TimeSpan.FromMilliseconds(250);

    private enum Phase
    {
        Listening,
        Hearing,
        FollowUp,

        /// <summary>The microphone is lent to recording the wake phrase (<see cref="RecordWakePhraseAsync"/>).</summary>
        Enrolling,
    }

    /// <summary>Whether a wake word starts a command (else speech does).</summary>
    public bool WakeRequired => _options.WakeRequired;

    /// <summary>Raised after every utterance, handled or failed.</summary>
    public event Action<UtteranceTrace>? UtteranceCompleted;

    /// <summary>Someone asked the hub to learn its wake word ("learn my wake word").</summary>
    public event Action? LearnWakeWordAsked;

    /// <summary>
    /// The detector the pipeline was built with is no longer listened with (a learned model replaced
    /// it), raised on the audio thread: its owner may free it.
    /// </summary>
    public event Action<IWakeDetector>? WakeRetired;

    /// <summary>When the utterance being handled reached its endpoint; null while listening. The watchdog checks it.</summary>
    public DateTimeOffset? BusySince => Interlocked.Read(ref _busySince) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Push-to-talk held: listen for a command without the wake word.</summary>
    public bool PushToTalk
    {
        get => Volatile.Read(ref _pushToTalk);
        set => Volatile.Write(ref _pushToTalk, value); // the button's watcher thread writes, the audio loop reads
    }

    /// <summary>Stops an answer still playing; releases the endpointing VAD's model (Silero's, when configured) and the echo canceller.</summary>
    public void Dispose()
    {
        _answerCancel.Cancel();
        _ = _answer.Wait(TimeSpan.FromSeconds(2)); // the speaker stops before what it writes to is freed (never throws: see SpeakInBackgroundAsync)
        _answerCancel.Dispose();
        _dialog.Dispose();
        _vad.Dispose();
        _voice?.Dispose();
        _echo?.Dispose();
        _replacedWake?.Dispose();
        Interlocked.Exchange(ref _nextWake, null)?.Dispose();
    }

    /// <summary>Listens for the wake phrase with <paramref name="detector"/> from the next block on (between utterances); the pipeline owns it from now.</summary>
    public void ReplaceWake(IWakeDetector detector)
    {
        ArgumentNullException.ThrowIfNull(detector);
        Interlocked.Exchange(ref _nextWake, detector)?.Dispose();
    }

    /// <summary>Says <paramref name="text"/> when the hub is next between utterances and not talking.</summary>
    public void Announce(string text) => _announcements.Enqueue(text);

    /// <summary>Why a recording of the wake phrase was refused while the hub is muted.</summary>
    public const string MicrophoneMuted = "the microphone is muted";

    /// <summary>
    /// Records <paramref name="count"/> sayings of the wake phrase from the hub's microphone: from the
    /// next moment between utterances, the hub asks for the phrase (aloud) and what people say, never
    /// its own voice, goes to the recorder instead of the wake stage; then it listens as before.
    /// </summary>
    /// <exception cref="InvalidOperationException">A recording is already under way.</exception>
    /// <exception cref="WakeEnrollmentException">The microphone is muted, or nobody said the phrase.</exception>
    public async Task<List<EnrollmentClip>> RecordWakePhraseAsync(string phrase, int count, CancellationToken cancellationToken)
    {
        if (_status.Muted)
        {
            throw new WakeEnrollmentException(MicrophoneMuted);
        }

        using var lent = new LentMicrophone();
        if (Interlocked.CompareExchange(ref _lent, lent, null) is not null)
        {
            throw new InvalidOperationException("the wake phrase is already being recorded");
        }

        try
        {
            var recorder = new EnrollmentRecorder(_vadOptions)
            {
                Prompt = (number, total, retry) =>
                {
                    if (retry is not null)
                    {
                        LogSayingRefused(_logger, number, total, retry);
                    }

                    // Prompts go with the lent microphone: those not yet said when the recording ends are dropped.
                    lent.Prompts.Enqueue(retry switch
                    {
                        null => number == 1 ? $"I will ask {total} times. Each time, say {phrase}, then wait." : $"{phrase}, again.",
                        EnrollmentRecorder.NothingHeard => $"I heard nothing. Say {phrase}.",
                        _ when retry.StartsWith(EnrollmentRecorder.TookTooLong, StringComparison.Ordinal) => $"That was too long. Say only {phrase}.",
                        _ when retry.Contains($": {EnrollmentClip.Clipped}", StringComparison.Ordinal) => $"That was too loud. Say {phrase} a little further from me.",
                        _ when retry.Contains($": {EnrollmentClip.TooLittleSpeech}", StringComparison.Ordinal) => $"I heard only part of it. Say all of {phrase}.",
                        _ => $"Sorry, I did not get that. Say {phrase} again.", // the log says why
                    });
                },
            };
            using var silent = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = WatchMicrophoneAsync(_clock.GetTimestamp(), silent);
            try
            {
                return await recorder.RecordAsync(lent, count, "saying", silent.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (silent.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new WakeEnrollmentException($"{NoSoundFromMicrophone} for {MicrophoneSilenceLimit.TotalSeconds:0} s");
            }
            finally
            {
                await silent.CancelAsync().ConfigureAwait(false);
                await watch.ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Exchange(ref _lent, null); // first: the audio loop must not find it closed and drop blocks
            lent.Close();
        }
    }

    /// <summary>How the problem of a recording of the wake phrase the microphone gave no sound for begins.</summary>
    public const string NoSoundFromMicrophone = "no sound from the microphone";

    /// <summary>Cancels <paramref name="silent"/> once the audio loop has taken no block for <see cref="MicrophoneSilenceLimit"/> (counted from <paramref name="requested"/> at the earliest).</summary>
    private async Task WatchMicrophoneAsync(long requested, CancellationTokenSource silent)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), _clock, silent.Token).ConfigureAwait(false);
                if (_clock.GetElapsedTime(Math.Max(requested, Interlocked.Read(ref _lastBlockTimestamp))) > MicrophoneSilenceLimit)
                {
                    await silent.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the recording ended
        }
    }

    /// <summary>Takes a wake detector handed in by <see cref="ReplaceWake"/>, between utterances.</summary>
    private void TakeNextWake()
    {
        if (_phase == Phase.Hearing || Volatile.Read(ref _nextWake) is null)
        {
            return;
        }

        var next = Interlocked.Exchange(ref _nextWake, null)!;
        if (_wake is null)
        {
            next.Dispose(); // no wake word required: nothing listens for one
            return;
        }

        var previous = _wake;
        var owned = ReferenceEquals(previous, _replacedWake);
        _wake = _replacedWake = next;
        if (owned)
        {
            previous.Dispose(); // an earlier replacement
        }
        else
        {
            WakeRetired?.Invoke(previous); // the one the pipeline was built with: its owner frees it now, not at shutdown
        }
    }

    /// <summary>
    /// Whether the microphone may go to a recording of the wake phrase now: between conversations,
    /// never over a ringing alarm (its "stop") or a question waiting for its answer.
    /// </summary>
    private bool MayLend => (_phase is Phase.Listening or Phase.Enrolling) && !_dialog.AlarmRinging && !_dialog.QuestionPending;

    /// <summary>
    /// One block while the microphone is lent: prompts are said, and what is heard of people (not of
    /// the hub) goes to the recorder. False when the recording had just ended: the block is the hub's again.
    /// </summary>
    private async Task<bool> LendAsync(LentMicrophone lent, AudioBlock block, CancellationToken cancellationToken)
    {
        if (_phase != Phase.Enrolling)
        {
            _phase = Phase.Enrolling;
            ShowWhenIdle(force: true);
        }

        while (lent.Prompts.TryDequeue(out var prompt))
        {
            await SayQuietlyAsync(prompt, cancellationToken).ConfigureAwait(false);
        }

        ShowWhenIdle();
        var hubSound = block.End <= _ignoreUntil || Talking || (_realTime && _speaker.IsSpeaking) || _echo is { Echoing: true };
        return hubSound || _status.Muted
            || await lent.WriteAsync(block with { Samples = block.Samples.ToArray() }, cancellationToken).ConfigureAwait(false); // the block's buffer is reused
    }

    /// <summary>The hub is saying something now (an answer, an alarm), in the background of listening.</summary>
    private bool Talking => !_answer.IsCompleted;

    /// <summary>What the wake stage listens for (none when no wake word is required).</summary>
    public IReadOnlyList<string> WakePhrases => _wake?.Phrases ?? [];

    /// <summary>Runs the conversation over a stream until it ends or is cancelled; returns the utterances handled.</summary>
    public async Task<long> RunAsync(IAudioSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        _realTime = source.IsRealTime;

        // A new source (a reconnected microphone, the next file) starts its clock at zero again.
        AbandonStream();
        _ring.Restart();
        _wake?.Reset();
        _ignoreUntil = TimeSpan.Zero;
        Enter(Phase.Listening);
        await foreach (var heard in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var talking = Talking;
            var block = _echo is null ? heard : heard with { Samples = _echo.Process(heard.Samples, talking, heard.CapturedAt) };
            _ring.Write(block.Samples.Span);
            _streamNow = block.End;
            Interlocked.Exchange(ref _lastBlockTimestamp, _clock.GetTimestamp());
            TakeNextWake();
            if (MayLend && Volatile.Read(ref _lent) is { } lent && await LendAsync(lent, block, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            if (_phase == Phase.Enrolling)
            {
                Enter(Phase.Listening);
            }

            if (_phase == Phase.Listening && !Talking && _announcements.TryDequeue(out var announcement))
            {
                await SayQuietlyAsync(announcement, cancellationToken).ConfigureAwait(false);
            }

            var listenWhileTalking = _echo is { CanHearWhileTalking: true };
            if (block.End <= _ignoreUntil || (((_realTime && _speaker.IsSpeaking) || talking) && !listenWhileTalking) || _status.Muted)
            {
                // Our own voice (and a muted room) must neither wake the hub nor end up in a command.
                if (_phase == Phase.Hearing)
                {
                    AbandonStream();
                    Enter(Phase.Listening);
                }

                ShowWhenIdle();

                if (_status.Muted && _dialog.AlarmRinging)
                {
                    await RepeatAlertAsync(cancellationToken).ConfigureAwait(false); // a muted microphone still hears no alarm, but people do
                }

                continue;
            }

            if (talking)
            {
                // While the hub talks, a stop word needs no wake word: listen as in a follow-up, for as long as it talks.
                if (_phase == Phase.Listening)
                {
                    Enter(Phase.FollowUp, block.End + _options.FollowUp);
                }
                else if (_phase == Phase.FollowUp)
                {
                    _followUpUntil = Max(_followUpUntil, block.End + _options.FollowUp);
                }
            }

            ShowWhenIdle();
            // Over the hub's own sound (and its echo after it), only blocks with someone else in them count as speech to the endpointing.
            var vadEvent = _vad.Process(_echo is { HearsSomeoneElse: false } ? Silence(block.Samples.Length) : block.Samples.Span);
            await StepAsync(block, vadEvent, cancellationToken).ConfigureAwait(false);
        }

        Volatile.Read(ref _lent)?.Close(); // a recording of the wake phrase has nothing more to hear

        // The input ended: a live one lets the last answer finish (the hub is heard out); a file read
        // faster than real time has nobody to hear it.
        if (!_realTime)
        {
            InterruptAnswer("the input ended");
        }

        try
        {
            await _answer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            InterruptAnswer("the hub is stopping");
        }

        return _utterances;
    }

    private async Task StepAsync(AudioBlock block, VadEvent vadEvent, CancellationToken cancellationToken)
    {
        switch (_phase)
        {
            case Phase.Listening when _dialog.AlarmRinging:
                // A ringing timer: "stop" works without the wake word.
                Enter(Phase.FollowUp, block.End + AlarmFollowUp);
                await RepeatAlertAsync(cancellationToken).ConfigureAwait(false);
                break;
            case Phase.Listening when _wake is not null && !PushToTalk:
                _talkPressed = false;
                if (Woken(block) is { } wake)
                {
                    BeginHearing(wake.End, woken: true);
                }

                break;
            case Phase.Listening:
                if (_wake is not null && !_talkPressed)
                {
                    // Just pressed. Meanwhile the VAD has heard the room unheeded, and may have spent its
                    // start of speech on talk not meant for the hub: it starts over, a moment before the press.
                    _talkPressed = true;
                    _vad.Reset();
                    vadEvent = _vad.Process(_ring.CopySince(block.End - PushToTalkReplay));
                }

                if (vadEvent == VadEvent.SpeechStarted)
                {
                    BeginHearing(SpeechStartInStream(block), woken: false);
                }

                break;
            case Phase.FollowUp:
                if (_dialog.AlarmRinging)
                {
                    await RepeatAlertAsync(cancellationToken).ConfigureAwait(false);
                }

                if (WakeWordAgain(block))
                {
                    break;
                }

                if (vadEvent == VadEvent.SpeechStarted)
                {
                    BeginHearing(SpeechStartInStream(block), woken: false);
                }
                else if (block.End > _followUpUntil && !_dialog.AlarmRinging)
                {
                    Enter(Phase.Listening);
                }

                break;
            case Phase.Hearing:
                if (!_woken && block.End - _utteranceStart < FollowUpWakeWindow && WakeWordAgain(block))
                {
                    break;
                }

                _stream?.Feed(block.Samples.Span);
                _voice?.Feed(block.Samples.Span);
                if (vadEvent == VadEvent.UtteranceEnded && OnlyWakeTailHeard)
                {
                    // Only the end of the wake word (or a click) before a pause: people wait for the
                    // hub after waking it. Keep waiting for the command itself.
                    WaitForCommandAfter(block.End);
                }
                else if (vadEvent is VadEvent.UtteranceEnded or VadEvent.MaximumLength
                    || (vadEvent == VadEvent.Pause && !OnlyWakeTailHeard && await IsCompleteCommandAsync(cancellationToken).ConfigureAwait(false)))
                {
                    var end = _vadBase + _vad.SpeechEnd + EndPad;
                    // A streaming decode already has the audio; a whole-utterance engine gets a copy.
                    var audio = _stream is null ? _ring.CopySince(_utteranceStart) : [];
                    var keep = (int)Math.Clamp((end - _utteranceStart).TotalSeconds * AudioFile.SampleRate, 0, audio.Length);
                    await HandleUtteranceAsync(audio.AsMemory(0, keep), _utteranceStart, end, cancellationToken).ConfigureAwait(false);
                }
                else if (vadEvent == VadEvent.NoSpeech)
                {
                    AbandonStream();
                    LogNoSpeech(_logger);
                    Enter(_dialog.AlarmRinging ? Phase.FollowUp : Phase.Listening, block.End + AlarmFollowUp);
                }

                break;
        }
    }

    /// <summary>
    /// People often say the wake word again in the follow-up window ("computer, ... — computer, ...").
    /// The spotter keeps listening there and at the start of a follow-up utterance; when it hears
    /// the phrase, the command starts after it instead of containing it.
    /// </summary>
    private bool WakeWordAgain(AudioBlock block)
    {
        if (Woken(block) is not { } wake)
        {
            return false;
        }

        BeginHearing(wake.End, woken: true);
        return true;
    }

    /// <summary>
    /// The wake word in this block, if any. Over the hub's own sound only when the echo front end
    /// heard someone else (double talk) within the length of a wake word: what the canceller leaves
    /// of the hub's voice while it learns the room can score as the wake word, and would cut the
    /// answer short with nobody speaking.
    /// </summary>
    private WakeDetection? Woken(AudioBlock block)
    {
        if (_wake?.Process(block) is not [var detection, ..])
        {
            return null;
        }

        if (_echo is { Echoing: true } echo && !echo.HeardSomeoneElseWithin(WakeWordLength))
        {
            LogWakeOnOwnSound(_logger, detection.Phrase, detection.Score);
            return null;
        }

        LogWoke(_logger, detection.Phrase, detection.Score);
        return detection;
    }

    private TimeSpan SpeechStartInStream(AudioBlock block)
    {
        // The VAD reports speech after it has lasted a while: start the utterance a little before.
        var start = block.End - (_vad.SpeechEnd - _vad.SpeechStart) - _options.PreRoll;
        return start < _ring.Oldest ? _ring.Oldest : start;
    }

    private void BeginHearing(TimeSpan from, bool woken)
    {
        var cutShort = woken && Talking;
        if (cutShort)
        {
            InterruptAnswer("the wake word"); // the user wants the floor
        }

        _heardOverAnswer = !woken && (Talking || _echo is { Echoing: true });
        _woken = woken;
        _utteranceStart = from;
        _phase = Phase.Hearing;
        _status.SetState(woken ? PipelineState.Woken : PipelineState.Hearing);
        _status.SetState(PipelineState.Hearing);

        // The VAD restarts where the command can begin and catches up on what is already buffered
        // (the spotter reports a phrase a little after it ended; the command may have begun). After
        // a wake word it starts a little late, so the word's own tail cannot pass for a command that
        // then "ends" before the real one starts. The decoder starts there too: fed the word's tail,
        // a closed grammar has to explain it as words ("put on our our kitchen light") and scores
        // the whole command worse.
        _vad.Reset();
        // After cutting an answer short, the command starts now: before, what is left of the answer
        // (the canceller's residue) would be decoded as words in front of it.
        _vadBase = woken ? Max(from + WakeTail, cutShort ? _streamNow : TimeSpan.Zero) : from;
        var caughtUp = _ring.CopySince(_vadBase);
        _voice?.Reset(); // first: a meter reading the VAD's Silero counts from here
        _ = _vad.Process(caughtUp);
        _voice?.Feed(caughtUp);

        // Models change here, between utterances; a streaming engine starts decoding right away.
        AbandonStream(); // before a new set retires the engine this stream runs on
        _set = _models.TakeCurrent();
        if (_set.Engine is IStreamingSpeechEngine streaming)
        {
            _stream = streaming.StartDecoding();
            _stream.Feed(caughtUp);
        }
    }

    /// <summary>All that was heard since waking is a short burst: the wake word's tail (or a click), not a command.</summary>
    private bool OnlyWakeTailHeard => _woken && _vad.SpeechEnd - _vad.SpeechStart < WakeTailBurst;

    /// <summary>
    /// Whether what the streaming (closed-set) engine has heard so far is already a whole command,
    /// so a short pause ends the utterance: "turn on the kitchen light" needs no 700 ms of silence.
    /// A number at the end may go on ("twenty ... one"), so it waits for the whole silence.
    /// </summary>
    private async Task<bool> IsCompleteCommandAsync(CancellationToken cancellationToken)
    {
        if (_stream is not { } stream || _set is not { } set)
        {
            return false;
        }

        var text = await stream.HypothesisSoFarAsync(cancellationToken).ConfigureAwait(false) ?? string.Empty;
        return IsCompleteCommand(text, set.Recognizer, _dialog.Context, _dialog.QuestionPending);
    }

    /// <summary>Whether a hypothesis is a whole command the templates accept and that cannot go on (see <see cref="IsCompleteCommandAsync"/>).</summary>
    internal static bool IsCompleteCommand(string hypothesis, IntentRecognizer recognizer, IReadOnlyDictionary<string, string> context, bool confirmationPending)
    {
        var text = TextNormalizer.Normalize(hypothesis);
        if (text.Length == 0 || s_mayGoOn.Contains(text[(text.LastIndexOf(' ') + 1)..]))
        {
            return false;
        }

        if (confirmationPending && DialogPolicy.IsYesOrNo(text))
        {
            return true;
        }

        return recognizer.RecognizeWithTemplates(text, context) is { Status: IntentStatus.Ok or IntentStatus.Confirm };
    }

    private void WaitForCommandAfter(TimeSpan at)
    {
        _utteranceStart = at - _options.PreRoll;
        _vad.Reset();
        _voice?.Reset();
        _vadBase = at;
        AbandonStream();
        if (_set?.Engine is IStreamingSpeechEngine streaming)
        {
            _stream = streaming.StartDecoding();
            _stream.Feed(_ring.CopySince(_utteranceStart));
        }
    }

    private void AbandonStream()
    {
        _stream?.Dispose();
        _stream = null;
    }

    private void Enter(Phase phase, TimeSpan? followUpUntil = null)
    {
        _phase = phase;
        if (phase == Phase.FollowUp)
        {
            _followUpUntil = followUpUntil ?? TimeSpan.MaxValue;
            ShowWhenIdle(force: true);
            _vad.Reset();
        }
        else if (phase == Phase.Listening)
        {
            ShowWhenIdle(force: true);
            _vad.Reset(); // without a wake word, the next start of speech begins the next command
            _dialog.ForgetQuestion();
        }
    }

    /// <summary>What the LEDs and Home Assistant show between utterances: the alarm while a timer rings, "answering" while the hub talks, else the phase.</summary>
    private PipelineState IdleState =>
        _dialog.AlarmRinging ? PipelineState.Ringing
        : _phase == Phase.Enrolling ? PipelineState.Enrolling
        : Talking ? PipelineState.Answering
        : _phase == Phase.FollowUp ? PipelineState.FollowUp
        : PipelineState.Listening;

    /// <summary>
    /// Shows <see cref="IdleState"/> between utterances when it changes (an answer in the background
    /// starts or ends, an alarm stops), or always on entering a phase: a state someone else set
    /// meanwhile (a command that expired shows an error) stays until the hub's own state moves on.
    /// </summary>
    private void ShowWhenIdle(bool force = false)
    {
        if (_phase == Phase.Hearing)
        {
            return;
        }

        var state = IdleState;
        if (force || state != _shownIdle)
        {
            _shownIdle = state;
            _status.SetState(state);
        }
    }

    /// <summary>Transcribe → understand → act → answer, each timed and guarded.</summary>
    private async Task HandleUtteranceAsync(ReadOnlyMemory<float> audio, TimeSpan start, TimeSpan end, CancellationToken cancellationToken)
    {
        var number = ++_utterances;
        var endpoint = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _busySince, _clock.GetUtcNow().UtcTicks);
        var stages = new Dictionary<string, double>(StringComparer.Ordinal);
        var set = _set ?? _models.TakeCurrent();
        var stream = _stream;
        _stream = null;
        string? transcript = null;
        string? rejection = null;
        IntentResult? result = null;
        ActuationReport? report = null;
        var response = string.Empty;
        string? error = null;
        var stage = "stt";
        try
        {
            _status.SetState(PipelineState.Transcribing);
            // Clatter, a tone or music after a wake word is no command, whatever a closed grammar makes of it.
            // A reply or a stop word over an answer may be one short syllable, and only those words count there.
            var heard = !_dialog.QuestionPending && !_heardOverAnswer && _voice?.Shortfall is { } noVoice
                ? Transcript.Rejected(set.Engine.Name, noVoice, TimeSpan.Zero)
                : await Timed(stages, "stt", () => stream is not null ? stream.FinishAsync(cancellationToken) : set.Engine.TranscribeAsync(audio, cancellationToken)).ConfigureAwait(false);
            var forTheAnswer = _heardOverAnswer && !heard.IsRejected ? _dialog.ForTheAnswer(heard.Text, set.Recognizer) : null;
            if (heard.IsRejected)
            {
                response = _woken ? "Sorry, I didn't catch that." : string.Empty;
                rejection = heard.Rejection;
                LogRejected(_logger, number, heard.Rejection!);
            }
            else if (_heardOverAnswer && forTheAnswer is null)
            {
                // Over its own answer the hub only takes a stop word or the reply to its question:
                // anything else may be its own voice left over, or people talking to each other.
                rejection = $"\"{heard.Text}\" said while the hub talked, not a stop word";
                LogRejected(_logger, number, rejection);
            }
            else
            {
                transcript = forTheAnswer ?? heard.Text;
                if (forTheAnswer is not null && !_dialog.IsStopWord(forTheAnswer))
                {
                    InterruptAnswer("a reply to it"); // a stop word stops it with everything else, and says so
                }

                stage = "intent";
                _status.SetState(PipelineState.Understanding);
                result = await Timed(stages, "intent", () => _dialog.UnderstandAsync(set.Recognizer, transcript, StopTalking, cancellationToken)).ConfigureAwait(false);
                stage = "act";
                _status.SetState(PipelineState.Acting);
                report = await Timed(stages, "act", () => _actuator.ExecuteAsync(result, set.Registry, cancellationToken)).ConfigureAwait(false);
                stages["total"] = Stopwatch.GetElapsedTime(endpoint).TotalMilliseconds;
                stages["endpoint_wait"] = Math.Max(0, (_streamNow - (end - EndPad)).TotalMilliseconds); // audio heard after the last voiced frame
                response = DialogPolicy.Answer(result, report);
            }

            stage = "answer";
            _status.SetState(PipelineState.Answering);
            _status.RecordUtterance(transcript, result?.Intent, new Dictionary<string, double>(stages));
            await Timed(stages, "speak", async () =>
            {
                await SpeakAsync(response, cancellationToken).ConfigureAwait(false);
                return true;
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            error = $"{stage}: {e.Message}";
            LogStageFailed(_logger, stage, number, e);
            _status.SetState(PipelineState.Error);
            _status.RecordUtterance(transcript, result?.Intent, new Dictionary<string, double>(stages));
            if (stage == "stt")
            {
                _ = _models.RebuildCurrentAsync(); // a fresh engine for the next utterance
            }

            await SayQuietlyAsync("Sorry, something went wrong.", cancellationToken).ConfigureAwait(false);
        }

        if (_realTime)
        {
            // What a live source recorded while we were busy arrives now: the user waited for the answer.
            _ignoreUntil = Max(_ignoreUntil, _streamNow + Stopwatch.GetElapsedTime(endpoint));
        }

        stream?.Dispose();
        Interlocked.Exchange(ref _busySince, 0);
        var trace = new UtteranceTrace(number, start, end, _woken, transcript, rejection, set.Engine.Name, set.Tier, result, report, response, stages, error);
        var timings = string.Join(", ", stages.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Value:0} ms")));
        LogTrace(_logger, number, transcript ?? "(nothing)", result?.Intent ?? "-", timings);
        UtteranceCompleted?.Invoke(trace);
        if (error is null && result is { Intent: IntentNames.LearnWakeWord, Status: IntentStatus.Ok })
        {
            LearnWakeWordAsked?.Invoke(); // the recording starts once this conversation is over
        }

        // The ring still holds the utterance (no block has been read since): a streaming decode had no copy of it.
        _recorder?.Record(trace, audio.Length > 0 ? audio.Span : Heard(start, end));

        if (error is null && result is not null && _dialog.ReplyWindow(result) is { } window)
        {
            Enter(Phase.FollowUp, Max(_streamNow, _ignoreUntil) + window);
        }
        else if (_heardOverAnswer && error is null)
        {
            Enter(Phase.FollowUp, _followUpUntil); // not for the hub: its question (and the window to answer it) stands
        }
        else
        {
            // Not for good: an alarm that gives up (nobody home) must not leave the hub taking commands without the wake word.
            Enter(_dialog.AlarmRinging ? Phase.FollowUp : Phase.Listening, Max(_streamNow, _ignoreUntil) + AlarmFollowUp);
        }
    }

    private ReadOnlySpan<float> Heard(TimeSpan start, TimeSpan end)
    {
        var audio = _ring.CopySince(start);
        return audio.AsSpan(0, (int)Math.Clamp((end - start).TotalSeconds * AudioFile.SampleRate, 0, audio.Length));
    }

    /// <summary>Cuts short what the hub is saying (the speaker stops mid-word).</summary>
    private void InterruptAnswer(string why)
    {
        if (!Talking)
        {
            return;
        }

        _answerCancel.Cancel();
        _answerCancel.Dispose();
        _answerCancel = new CancellationTokenSource();
        LogInterrupted(_logger, why);
    }

    /// <summary>A stop word: the answer playing (if any) stops; whether one was.</summary>
    private bool StopTalking()
    {
        var talking = Talking;
        InterruptAnswer("a stop word");
        return talking;
    }

    private async Task RepeatAlertAsync(CancellationToken cancellationToken)
    {
        if (_dialog.AlarmAnnouncementDue() is { } announcement)
        {
            _status.SetState(PipelineState.Ringing);
            await SayQuietlyAsync(announcement, cancellationToken).ConfigureAwait(false);
            ShowWhenIdle(force: true);
        }
    }

    /// <summary>
    /// With echo cancellation, starts the answer and returns: listening goes on over it. Without,
    /// speaks, then ignores the audio captured meanwhile: a live source kept recording while we
    /// were busy, and those blocks (our own voice among them) arrive after the answer.
    /// </summary>
    private async Task SpeakAsync(string text, CancellationToken cancellationToken)
    {
        if (_echo is not null)
        {
            // Listening goes on while it talks: the answer plays in the background, after any still playing.
            if (text.Length > 0)
            {
                _answer = SpeakInBackgroundAsync(_answer, text, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _answerCancel.Token));
            }

            return;
        }

        var started = Stopwatch.GetTimestamp();
        await _speaker.SayAsync(text, cancellationToken).ConfigureAwait(false);
        if (_realTime && text.Length > 0)
        {
            _ignoreUntil = Max(_ignoreUntil, _streamNow + Stopwatch.GetElapsedTime(started));
        }
    }

    /// <returns>Whether the answer overran its time (the sound card may be stuck).</returns>
    private async Task<bool> SpeakInBackgroundAsync(Task<bool> previous, string text, CancellationTokenSource cancel)
    {
        // A sound card that stops taking samples must not keep the hub "talking" (and deaf to
        // commands) for good: an answer gets a generous time for its length, then is given up. The
        // time starts once the answer before it is over (an alarm queued behind a long answer waits
        // its turn), unless that one overran: then it counts from the queueing, so repeated alarms
        // on a stuck card do not pile up.
        var limit = TimeSpan.FromSeconds(5 + (text.Length / 8.0));
        var queued = Stopwatch.GetTimestamp();
        using var deadline = new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel.Token, deadline.Token);
        using (cancel)
        {
            try
            {
                var stuck = await previous.ConfigureAwait(false);
                deadline.CancelAfter(stuck ? Max(limit - Stopwatch.GetElapsedTime(queued), TimeSpan.Zero) : limit);
                await _speaker.SayAsync(text, stop.Token).WaitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancel.IsCancellationRequested)
            {
                LogAnswerOverran(_logger, text.Length);
                return true;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // interrupted: barge-in, or the hub stopping
            }
            catch (Exception e)
            {
                LogStageFailed(_logger, "answer", _utterances, e); // the answer is lost, the conversation is not
            }
        }

        return false;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private ReadOnlySpan<float> Silence(int samples)
    {
        if (_silence.Length < samples)
        {
            _silence = new float[samples];
        }

        return _silence.AsSpan(0, samples);
    }

    private async Task SayQuietlyAsync(string text, CancellationToken cancellationToken)
    {
        try
        {
            await SpeakAsync(text, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStageFailed(_logger, "answer", _utterances, e);
        }
    }

    private static async Task<T> Timed<T>(Dictionary<string, double> stages, string name, Func<Task<T>> stage)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await stage().ConfigureAwait(false);
        }
        finally
        {
            stages[name] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake enrollment: saying {Number} of {Total} asked for again: {Reason}")]
    private static partial void LogSayingRefused(ILogger logger, int number, int total, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silero VAD not available, endpointing by energy: {Problem}")]
    private static partial void LogSileroUnavailable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silero VAD not available, utterances are not checked for a voice: {Problem}")]
    private static partial void LogVoiceCheckUnavailable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Woke on \"{Phrase}\" (score {Score:0.00})")]
    private static partial void LogWoke(ILogger logger, string phrase, double score);

    [LoggerMessage(Level = LogLevel.Information, Message = "No speech after waking; listening again")]
    private static partial void LogNoSpeech(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Utterance {Number}: nothing usable heard ({Reason})")]
    private static partial void LogRejected(ILogger logger, long number, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Utterance {Number}: \"{Transcript}\" -> {Intent} ({Stages})")]
    private static partial void LogTrace(ILogger logger, long number, string transcript, string intent, string stages);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stage {Stage} of utterance {Number} failed; the hub keeps listening")]
    private static partial void LogStageFailed(ILogger logger, string stage, long number, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An answer of {Characters} characters did not finish playing in time; given up (is the sound card stuck?)")]
    private static partial void LogAnswerOverran(ILogger logger, int characters);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wake word \"{Phrase}\" (score {Score:0.00}) ignored: heard in the hub's own sound, nobody else was talking")]
    private static partial void LogWakeOnOwnSound(ILogger logger, string phrase, double score);

    [LoggerMessage(Level = LogLevel.Information, Message = "Answer cut short: {Why}")]
    private static partial void LogInterrupted(ILogger logger, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Echo cancellation: {Problem}")]
    private static partial void LogEchoReference(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Echo cancellation: {Note}")]
    private static partial void LogEchoNote(ILogger logger, string note);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No echo cancellation (the microphone is ignored while the hub talks): {Problem}")]
    private static partial void LogNoEchoCancellation(ILogger logger, string problem);
}
