namespace VoiceHub.Core.Audio;

/// <summary>What decides whether a frame is speech.</summary>
public enum SpeechDetector
{
    /// <summary>Louder than the noise floor by <see cref="VadOptions.SpeechMarginDb"/>.</summary>
    Energy,

    /// <summary>Silero VAD's speech probability at or above <see cref="VadOptions.SileroThreshold"/> (tells voices from clatter and music).</summary>
    Silero,
}

/// <summary>Voice activity and endpointing settings (section <c>audio:vad</c>).</summary>
public sealed class VadOptions
{
    public SpeechDetector Detector { get; set; } = SpeechDetector.Energy;

    /// <summary>The Silero VAD speech probability from which a frame is speech (the silero detector's, and the voice check's of <see cref="MinimumVoice"/>).</summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 1.0)]
    public double SileroThreshold { get; set; } = 0.5;

    /// <summary>Speech is this much louder than the noise floor (dB).</summary>
    public double SpeechMarginDb { get; set; } = 9;

    /// <summary>
    /// The noise floor is never taken below this (dBFS): digitally silent stretches (files, muted
    /// codecs) would otherwise make any faint hiss after them count as speech.
    /// </summary>
    public double NoiseFloorMinimumDb { get; set; } = -65;

    /// <summary>Speech must last this long to start an utterance (clicks and knocks do not).</summary>
    public TimeSpan MinimumSpeech { get; set; } = TimeSpan.FromMilliseconds(120);

    /// <summary>Silence after speech that ends the utterance.</summary>
    public TimeSpan TrailingSilence { get; set; } = TimeSpan.FromMilliseconds(700);

    /// <summary>
    /// A pause this long is reported (<see cref="VadEvent.Pause"/>): a closed-set engine whose
    /// hypothesis is already a complete command ends the utterance there instead of waiting for the
    /// whole trailing silence. Zero turns it off.
    /// </summary>
    public TimeSpan EarlyEndSilence { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>An utterance is cut here whatever happens (a TV left on must not hold the pipeline).</summary>
    public TimeSpan MaximumUtterance { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// An utterance in which Silero VAD hears less voice than this is noise, not a command (zero: no
    /// check). On the speech-to-intent recordings every order held at least 0.9 s of it, even at 6 dB,
    /// and every recording of a wake word ("computer", "jarvis") 0.45 s; 19 of 20 three-second
    /// stretches of kitchen noise held none (one 0.38 s), yet the closed grammar took 10 of them for an
    /// order; heard in the pipeline after a moment of quiet, the same clatter held about 0.2 s. A reply
    /// to the hub's question and a stop word over its answer are not checked: they may be one quick
    /// syllable ("no", "stop"), and only those words are taken there.
    /// </summary>
    public TimeSpan MinimumVoice { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Without any speech this long after waking, give up listening.</summary>
    public TimeSpan NoSpeechTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

public enum VadEvent
{
    None,
    SpeechStarted,
    UtteranceEnded,
    /// <summary>A short pause in speech (<see cref="VadOptions.EarlyEndSilence"/>): the utterance may be complete.</summary>
    Pause,
    NoSpeech,
    MaximumLength,
}

/// <summary>
/// Voice activity detection (by energy over an adaptive noise floor, or by Silero VAD), and endpointing of one
/// utterance: speech starts once frames stay above the floor by a margin for long enough, and
/// the utterance ends after a trailing silence, at the maximum length, or never starts before a
/// timeout. The floor is the quietest frame of the last few seconds: it drops at once when the
/// room gets quieter, and rises to a fan that was switched on once the window has passed (speech
/// has pauses; steady noise has none). With Silero, a frame is speech when the network says so
/// (its answers come every 32 ms). Works on any block size.
/// </summary>
public sealed class VoiceActivityDetector(VadOptions options, Wake.Neural.SileroVad? silero = null) : IDisposable
{
    private readonly Wake.Neural.SileroVad.State _sileroState = new();
    private readonly float[] _sileroFrame = new float[Wake.Neural.SileroVad.FrameSamples];
    private int _sileroFill;
    private bool _sileroSpeech;

    /// <summary>
    /// Silero's 32 ms frames judged speech since the detector was made (never reset), or null when
    /// energy decides: a <see cref="VoiceMeter"/> reads them instead of running the network again.
    /// </summary>
    public long? SileroVoicedFrames => silero is null ? null : _sileroVoicedFrames;

    private long _sileroVoicedFrames;

    /// <summary>
    /// A detector as configured: Silero VAD's model from the wake models' folder when asked for; when
    /// it cannot be loaded, <paramref name="unavailable"/> is told why and energy decides.
    /// </summary>
    public static VoiceActivityDetector Create(VadOptions options, Action<string> unavailable)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(unavailable);
        if (options.Detector != SpeechDetector.Silero)
        {
            return new VoiceActivityDetector(options);
        }

        try
        {
            return new VoiceActivityDetector(options, Wake.Neural.SileroVad.LoadShipped());
        }
        catch (Wake.Neural.WakeModelException e)
        {
            unavailable(e.Message);
            return new VoiceActivityDetector(options);
        }
    }

    public void Dispose() => silero?.Dispose();

    private const int FrameSamples = 160; // 10 ms
    private const int FloorWindowFrames = 300; // 3 s
    private readonly double[] _recentDb = new double[FloorWindowFrames];
    private double _noiseFloorDb = -60;
    private int _frameFill;
    private double _frameEnergy;
    private int _speechFrames;
    private int _silenceFrames;
    private int _frames;
    private long _totalFrames;
    private bool _calibrated;

    public bool InSpeech { get; private set; }

    public bool UtteranceStarted { get; private set; }

    public double NoiseFloorDb => _noiseFloorDb;

    /// <summary>Time (since <see cref="Reset"/>) at which the current utterance's speech began.</summary>
    public TimeSpan SpeechStart { get; private set; }

    /// <summary>Time (since <see cref="Reset"/>) of the end of the last speech frame.</summary>
    public TimeSpan SpeechEnd { get; private set; }

    /// <summary>Starts a new utterance (the noise floor is kept: the room has not changed).</summary>
    public void Reset()
    {
        // The audio fed next is not what followed the last sample: Silero starts from silence.
        _sileroState.Clear();
        _sileroFill = 0;
        _sileroSpeech = false;
        InSpeech = false;
        UtteranceStarted = false;
        _speechFrames = 0;
        _silenceFrames = 0;
        _frames = 0;
        SpeechStart = TimeSpan.Zero;
        SpeechEnd = TimeSpan.Zero;
    }

    /// <summary>Feeds audio; returns the first endpointing event it caused (a start of speech before a "no speech").</summary>
    public VadEvent Process(ReadOnlySpan<float> samples)
    {
        var result = VadEvent.None;
        foreach (var sample in samples)
        {
            if (silero is not null)
            {
                // Silero decides per 32 ms; the 10 ms frames take its latest answer.
                _sileroFrame[_sileroFill++] = sample;
                if (_sileroFill == _sileroFrame.Length)
                {
                    _sileroSpeech = silero.Step(_sileroFrame, _sileroState) >= options.SileroThreshold;
                    _sileroVoicedFrames += _sileroSpeech ? 1 : 0;
                    _sileroFill = 0;
                }
            }

            _frameEnergy += sample * (double)sample;
            if (++_frameFill < FrameSamples)
            {
                continue;
            }

            var frameEvent = Frame(10 * Math.Log10((_frameEnergy / FrameSamples) + 1e-12));
            _frameFill = 0;
            _frameEnergy = 0;
            // The first event of the block wins, except that "no speech yet" never hides a start of speech later in it.
            if (result == VadEvent.None || (result == VadEvent.NoSpeech && frameEvent != VadEvent.None))
            {
                result = frameEvent;
            }
        }

        return result;
    }

    private VadEvent Frame(double energyDb)
    {
        _frames++;
        var now = TimeSpan.FromMilliseconds(_frames * 10);
        if (!_calibrated)
        {
            Array.Fill(_recentDb, energyDb);
            _calibrated = true;
        }

        _recentDb[_totalFrames++ % FloorWindowFrames] = energyDb;
        var floor = double.MaxValue;
        foreach (var db in _recentDb)
        {
            floor = Math.Min(floor, db);
        }

        _noiseFloorDb = Math.Max(floor, options.NoiseFloorMinimumDb);
        var speech = silero is null ? energyDb > _noiseFloorDb + options.SpeechMarginDb : _sileroSpeech;
        if (speech)
        {
            _speechFrames++;
            _silenceFrames = 0;
            SpeechEnd = now;
            if (!InSpeech && _speechFrames * 10 >= options.MinimumSpeech.TotalMilliseconds)
            {
                InSpeech = true;
                if (!UtteranceStarted)
                {
                    UtteranceStarted = true;
                    SpeechStart = now - TimeSpan.FromMilliseconds(_speechFrames * 10);
                    return VadEvent.SpeechStarted;
                }
            }
        }
        else
        {
            _silenceFrames++;
            if (_silenceFrames * 10 >= 100)
            {
                _speechFrames = 0;
            }

            if (InSpeech && _silenceFrames * 10 >= options.TrailingSilence.TotalMilliseconds)
            {
                InSpeech = false;
                return VadEvent.UtteranceEnded;
            }

            if (InSpeech && options.EarlyEndSilence > TimeSpan.Zero && _silenceFrames * 10 == (int)options.EarlyEndSilence.TotalMilliseconds)
            {
                return VadEvent.Pause;
            }
        }

        if (UtteranceStarted && now - SpeechStart >= options.MaximumUtterance)
        {
            return VadEvent.MaximumLength;
        }

        return !UtteranceStarted && now >= options.NoSpeechTimeout ? VadEvent.NoSpeech : VadEvent.None;
    }
}
