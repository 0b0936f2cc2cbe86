using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Audio;

/// <summary>Echo cancellation settings (section <c>audio:echo</c>).</summary>
public sealed class EchoCancellationOptions
{
    /// <summary>Listen while the hub talks (barge-in), with its own sound cancelled; false: ignore the microphone while it talks.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The longest echo path to model: speaker-to-microphone delay plus the room's reverberation.</summary>
    public TimeSpan Tail { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>False: listen while talking with the echo left in, only to measure what cancellation buys (<c>eval echo</c>).</summary>
    public bool Cancel { get; set; } = true;

    /// <summary>Suppress what the canceller leaves of the echo (SpeexDSP's preprocessor).</summary>
    public bool SuppressResidual { get; set; } = true;

    /// <summary>
    /// Measure where the echo sits behind the speaker feed and keep it where the canceller learned it
    /// (<see cref="FeedAlignment"/>): each answer's own start, and the drift between separate sound cards' clocks.
    /// </summary>
    public bool AlignFeed { get; set; } = true;
}

/// <summary>
/// Removes the hub's own voice and alarms from the microphone signal, with the speaker feed as the
/// reference (SpeexDSP's adaptive echo canceller), so the wake word and "stop" can be heard while
/// it talks. Takes blocks of any length: the microphone and the reference as they were at the same
/// moment (silence where the speaker played nothing). Not thread-safe: the audio loop owns it.
/// </summary>
public sealed class EchoCanceller : IDisposable
{
    private const int FrameSamples = 160; // 10 ms at 16 kHz

    private readonly SpeexEchoCanceller _speex;
    private readonly FeedAlignment? _alignment;
    private readonly short[] _microphone = new short[FrameSamples];
    private readonly short[] _reference = new short[FrameSamples];
    private readonly short[] _cleaned = new short[FrameSamples];
    private int _fill;
    private bool _echoFound;

    public EchoCanceller(EchoCancellationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tail = (int)Math.Clamp(options.Tail.TotalSeconds * AudioFile.SampleRate, FrameSamples * 2, AudioFile.SampleRate);
        _speex = new SpeexEchoCanceller(FrameSamples, tail, AudioFile.SampleRate, options.SuppressResidual);
        _alignment = options.AlignFeed ? new FeedAlignment(tail) : null;
    }

    /// <summary>How much faster the speaker's clock runs than the microphone's (parts per million), once measured.</summary>
    public double? DriftPpm => _alignment?.DriftPpm;

    /// <summary>The echo's delay behind the feed at the start of this stretch of sound (samples), once measured.</summary>
    public double? DelaySamples => _alignment?.DelaySamples;

    /// <summary>How many times the filter was made to forget what it learned (once, when the echo is first found behind the feed).</summary>
    public int Resets { get; private set; }

    /// <summary>Cancels the reference's echo from <paramref name="microphone"/> into <paramref name="output"/> (same length; the last partial frame comes out with the next call, so output lags by under 10 ms).</summary>
    public void Process(ReadOnlySpan<float> microphone, ReadOnlySpan<float> reference, Span<float> output)
    {
        if (reference.Length != microphone.Length || output.Length != microphone.Length)
        {
            throw new ArgumentException($"the microphone block ({microphone.Length} samples), its reference ({reference.Length}) and the output ({output.Length}) must be as long");
        }

        for (var i = 0; i < microphone.Length; i++)
        {
            // The frame being filled moves out as the cleaned frame of the previous call moves in: a fixed lag of one frame.
            output[i] = _cleaned[_fill] / 32768f;
            _microphone[_fill] = ToInt16(microphone[i]);
            _reference[_fill] = ToInt16(_alignment?.Next(microphone[i], reference[i]) ?? reference[i]);
            if (++_fill == FrameSamples)
            {
                if (_alignment is { Found: true } && !_echoFound)
                {
                    // The feed has just moved behind the echo for good (an eighth of a second into the first answer, as a
                    // rule): what the filter learned before is at the wrong delays, and unlearning it took seconds.
                    _echoFound = true;
                    _speex.Reset();
                    Resets++;
                }

                _speex.Process(_microphone, _reference, _cleaned);
                _fill = 0;
            }
        }
    }

    /// <summary>
    /// A new stretch of the hub's sound: drops the partial frame and the last cleaned one (what the
    /// filter learned of the room, and where it learned the echo, stay).
    /// </summary>
    public void Restart()
    {
        _alignment?.Restart();
        _fill = 0;
        Array.Clear(_cleaned);
    }

    private static short ToInt16(float sample) => (short)Math.Clamp(MathF.Round(sample * 32767f), short.MinValue, short.MaxValue);

    public void Dispose() => _speex.Dispose();
}

/// <summary>
/// The microphone with the hub's own sound taken out, so the wake word and "stop" are heard while it
/// talks. The canceller runs while the speaker feed carries sound and for the echo tail after it;
/// otherwise the microphone passes unchanged (and the canceller keeps what it learned of the room).
/// A reference that stays silent while the hub talks (a speaker feed that stopped, a dead loopback
/// channel) cannot cancel anything: the answer under way is then not listened to, with one warning.
/// </summary>
public sealed class EchoFrontEnd : IDisposable
{
    /// <summary>Below this peak the speaker feed counts as silent (-60 dBFS).</summary>
    private const float AudiblePeak = 1e-3f;

    /// <summary>
    /// While the hub's sound is being cancelled, someone else is talking when the last 100 ms come out
    /// of the canceller no more than this far under the loudest the microphone was in the last 300 ms:
    /// the hub's own voice alone comes out 15-25 dB down once the canceller has learned the room (and
    /// the pauses between its words are quieter still), a talker over it only a few dB.
    /// </summary>
    private const double NearEndMarginDb = 12;

    /// <summary>A talker is at least this loud at the microphone (mean square, -50 dBFS): the soft onset of the hub's own words is not one.</summary>
    private const double QuietestTalker = 1e-5;

    /// <summary>
    /// The canceller has learned the room when it takes this much of the hub's sound out of the
    /// microphone (measured over the last second of it): a converged SpeexDSP filter takes 15-25 dB,
    /// one still learning 2-10 dB, and what it leaves then decodes as words.
    /// </summary>
    private const double LearnedEchoLossDb = 12;

    /// <summary>
    /// The least of the hub's sound before its echo loss is trusted (three seconds): SpeexDSP's
    /// residual suppression alone takes 12 dB off within a second, while the filter itself converges
    /// in 2-3 s of speech (measured in <c>eval echo</c>: trusting the loss alone cut answers short more often).
    /// </summary>
    private const int LearningSamples = 3 * AudioFile.SampleRate;

    /// <summary>
    /// Sound of the next answer over which the canceller is checked again when someone talked over the
    /// last one (a second; the microphone is not heard meanwhile): the filter adapts during double talk
    /// and may diverge (SpeexDSP then resets it), and the next answer's residue decoded as "stop" and
    /// cut it short (measured in <c>eval echo</c>).
    /// </summary>
    private const int RecheckSamples = AudioFile.SampleRate;

    /// <summary>Someone talked over an answer for this long (a quarter second): the next one is checked again.</summary>
    private const int DoubleTalkBeforeRecheck = AudioFile.SampleRate / 4;

    /// <summary>How long a talker counts as heard after the last block that showed one (the gaps between words).</summary>
    private const int NearEndHangoverSamples = AudioFile.SampleRate / 4;

    private readonly SpeakerFeed _feed;
    private readonly EchoCanceller _canceller;
    private readonly Action<string>? _warn;
    private readonly Action<string>? _note;
    private readonly bool _cancel;
    private readonly int _echoSamples;
    private readonly int _silentReferenceLimit = AudioFile.SampleRate; // a second of talking without any sound in the feed
    private float[] _reference = [];
    private float[] _cleaned = [];
    private int _sinceReference = int.MaxValue / 2;
    private bool _talking;
    private int _talkedSamples;
    private bool _referenceHeard;
    private int _sinceNearEnd = int.MaxValue / 2;
    private int _learnedSamples;
    private bool _learned;
    private bool _toldDrift;
    private int _cancellerResets;
    private bool _rechecking; // the echo loss is checked again over this answer's first second
    private int _recheckedSamples;
    private int _doubleTalkSamples; // in this stretch of the hub's sound
    private double _echoLevel; // the microphone's mean square over the last second of the hub's sound (exponential)
    private double _residueLevel; // ... of what the canceller left of it
    private readonly Queue<double> _microphoneLevels = new(); // mean squares of the last 300 ms of blocks
    private readonly Queue<double> _cleanedLevels = new(); // ... of the last 100 ms

    /// <param name="note">What the front end found out that a user may want to know (the clocks' drift, once).</param>
    public EchoFrontEnd(SpeakerFeed feed, EchoCancellationOptions options, Action<string>? warn = null, Action<string>? note = null)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(options);
        _feed = feed;
        _canceller = new EchoCanceller(options);
        _warn = warn;
        _note = note;
        _cancel = options.Cancel;
        _echoSamples = (int)((options.Tail.TotalSeconds + 0.25) * AudioFile.SampleRate);
    }

    /// <summary>
    /// Whether the last block holds (or just followed) sound from someone other than the hub's
    /// speaker: always, when nothing is being cancelled. What is left of the hub's own voice must not
    /// pass for speech to the endpointing, which would then take it (and the stop word after it) as one long utterance.
    /// </summary>
    public bool HearsSomeoneElse => !_cancel || _sinceReference > _echoSamples || _sinceNearEnd < NearEndHangoverSamples;

    /// <summary>
    /// Whether someone other than the hub's speaker was heard within <paramref name="span"/>: always,
    /// when nothing is being cancelled. A wake word over an answer must have been said by someone:
    /// the canceller's residue of the hub's own voice can score as one.
    /// </summary>
    /// <remarks>Not before the canceller has learned the room: until then, what it leaves of the hub's voice passes for someone else.</remarks>
    public bool HeardSomeoneElseWithin(TimeSpan span) =>
        !_cancel || _sinceReference > _echoSamples || (Trusted && _sinceNearEnd < span.TotalSeconds * AudioFile.SampleRate);

    /// <summary>The canceller has learned the room, and this answer has shown it still takes the echo out.</summary>
    private bool Trusted => _learned && !_rechecking;

    /// <summary>The hub's sound may still be in the microphone: it played within the echo tail.</summary>
    public bool Echoing => _sinceReference <= _echoSamples;

    /// <summary>
    /// Whether the hub can listen while it talks: once the canceller has learned the room, measured
    /// by how much of the hub's sound it takes out (before, what it leaves of the first answers decodes
    /// as words, "stop" among them, and the hub would cut itself short; how long that takes depends on
    /// the room and the voice), and unless the speaker feed of the last answer stayed silent (nothing
    /// could be cancelled) until the next answer brings sound in its feed.
    /// </summary>
    public bool CanHearWhileTalking => FeedCarriesSound && (Trusted || !_cancel);

    private bool FeedCarriesSound => _referenceHeard || _talkedSamples < _silentReferenceLimit;

    /// <summary>One microphone block, cleaned of the hub's sound (the returned samples are valid until the next call).</summary>
    /// <param name="talking">The hub is saying something now.</param>
    /// <param name="capturedAt">When the block ended (its capture), by the speaker feed's clock (0: unknown); see <see cref="SpeakerFeed.Read"/>.</param>
    public ReadOnlyMemory<float> Process(ReadOnlyMemory<float> microphone, bool talking, long capturedAt = 0)
    {
        var n = microphone.Length;
        if (_reference.Length < n)
        {
            _reference = new float[n];
            _cleaned = new float[n];
        }

        var reference = _reference.AsSpan(0, n);
        var played = _feed.Read(reference, capturedAt);
        TrackAnswer(talking, reference, played, n);
        if (played > 0 && !Echoing)
        {
            _canceller.Restart(); // a new stretch of the hub's sound: nothing of the last one is left in the pipe
            if (_canceller.DriftPpm is { } ppm && Math.Abs(ppm) >= FeedAlignment.NegligiblePpm && !_toldDrift)
            {
                _toldDrift = true;
                _note?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"the speaker's clock runs {Math.Abs(ppm):0.0} ppm {(ppm > 0 ? "faster" : "slower")} than the microphone's (separate sound cards); what it plays is re-timed to the microphone's clock"));
            }

            _microphoneLevels.Clear();
            _cleanedLevels.Clear();
            _sinceNearEnd = int.MaxValue / 2; // nor of whoever talked over it
            _rechecking = _learned && _doubleTalkSamples >= DoubleTalkBeforeRecheck;
            _recheckedSamples = 0;
            _doubleTalkSamples = 0;
        }

        _sinceReference = played > 0 ? 0 : Math.Min(_sinceReference + n, int.MaxValue / 2);
        if (_sinceReference > _echoSamples || !_cancel)
        {
            return microphone; // nothing played lately: no echo to remove
        }

        _canceller.Process(microphone.Span, reference, _cleaned.AsSpan(0, n));
        if (_canceller.Resets != _cancellerResets)
        {
            // The filter forgot the room (the echo was just found behind the feed): it is trusted again once it has relearned it.
            _cancellerResets = _canceller.Resets;
            (_learned, _learnedSamples) = (false, 0);
        }

        var microphoneLevel = Level(microphone.Span);
        var cleanedLevel = Level(_cleaned.AsSpan(0, n));
        var nearEnd = IsDoubleTalk(microphoneLevel, cleanedLevel, n);
        _sinceNearEnd = nearEnd ? 0 : Math.Min(_sinceNearEnd + n, int.MaxValue / 2);
        // Double talk tells only over a canceller that has learned the room: before, its residue is within the margin of the echo by itself.
        _doubleTalkSamples = nearEnd && _learned ? Math.Min(_doubleTalkSamples + n, int.MaxValue / 2) : _doubleTalkSamples;
        if (played > 0 && !_learned)
        {
            Learn(microphoneLevel, cleanedLevel, n);
        }
        else if (played > 0 && _rechecking)
        {
            Recheck(microphoneLevel, cleanedLevel, n);
        }

        return _cleaned.AsMemory(0, n);
    }

    /// <summary>Follows how much echo the canceller removes until it has learned the room (then it is trusted: a talker over an answer would lower the measure, not the filter).</summary>
    private void Learn(double microphoneLevel, double cleanedLevel, int samples)
    {
        var weight = Math.Min(1.0, (double)samples / AudioFile.SampleRate);
        _echoLevel += weight * (microphoneLevel - _echoLevel);
        _residueLevel += weight * (cleanedLevel - _residueLevel);
        if (_learnedSamples < LearningSamples)
        {
            return;
        }

        _learned = TakesEchoOut;
    }

    /// <summary>The canceller takes <see cref="LearnedEchoLossDb"/> out of the measured echo (a microphone that hardly hears the speaker has no echo to take out).</summary>
    private bool TakesEchoOut => _echoLevel < QuietestTalker || _residueLevel * Math.Pow(10, LearnedEchoLossDb / 10) <= _echoLevel;

    /// <summary>
    /// Measures the echo loss over the first second of the answer after double talk, from scratch; until it
    /// shows the room's loss again, the measure goes on (a user talking in that second holds it back).
    /// </summary>
    private void Recheck(double microphoneLevel, double cleanedLevel, int samples)
    {
        if (_recheckedSamples == 0)
        {
            (_echoLevel, _residueLevel) = (microphoneLevel, cleanedLevel);
        }

        var weight = Math.Min(1.0, 4.0 * samples / AudioFile.SampleRate); // a quarter-second memory: the check is short
        _echoLevel += weight * (microphoneLevel - _echoLevel);
        _residueLevel += weight * (cleanedLevel - _residueLevel);
        _recheckedSamples = Math.Min(_recheckedSamples + samples, RecheckSamples);
        _rechecking = _recheckedSamples < RecheckSamples || !TakesEchoOut;
    }

    private bool IsDoubleTalk(double microphoneLevel, double cleanedLevel, int samples)
    {
        Keep(_microphoneLevels, microphoneLevel, (int)Math.Ceiling(0.3 * AudioFile.SampleRate / samples));
        Keep(_cleanedLevels, cleanedLevel, (int)Math.Ceiling(0.1 * AudioFile.SampleRate / samples));
        var envelope = _microphoneLevels.Max();
        var cleaned = _cleanedLevels.Average();
        return cleaned > envelope * Math.Pow(10, -NearEndMarginDb / 10) && cleaned > QuietestTalker;
    }

    private static void Keep(Queue<double> levels, double level, int count)
    {
        levels.Enqueue(level);
        while (levels.Count > count)
        {
            levels.Dequeue();
        }
    }

    private static double Level(ReadOnlySpan<float> samples)
    {
        var sum = 0.0;
        foreach (var sample in samples)
        {
            sum += sample * (double)sample;
        }

        return sum / Math.Max(1, samples.Length);
    }

    /// <param name="reference">The block's reference: <paramref name="played"/> samples of the speaker's sound (anywhere in it), silence around them.</param>
    private void TrackAnswer(bool talking, ReadOnlySpan<float> reference, int played, int samples)
    {
        if (talking && !_talking)
        {
            _talkedSamples = 0;
            _referenceHeard = false;
        }

        _talking = talking;
        if (!talking)
        {
            return;
        }

        var wasCarryingSound = FeedCarriesSound;
        var audible = played > 0 && Peak(reference) > AudiblePeak;
        _referenceHeard |= audible;
        _learnedSamples = audible ? Math.Min(_learnedSamples + played, LearningSamples) : _learnedSamples;
        if (_feed.Playing && !_feed.Holding)
        {
            _talkedSamples += samples; // not while the answer is synthesized, nor when the speaker cannot play (no sound, no echo), nor before it started
        }

        if (wasCarryingSound && !FeedCarriesSound)
        {
            _warn?.Invoke("the speaker feed stayed silent for a second while the hub talked (no echo reference): the microphone is ignored until this answer ends");
        }
    }

    private static float Peak(ReadOnlySpan<float> samples)
    {
        var peak = 0f;
        foreach (var sample in samples)
        {
            peak = Math.Max(peak, Math.Abs(sample));
        }

        return peak;
    }

    public void Dispose() => _canceller.Dispose();
}
