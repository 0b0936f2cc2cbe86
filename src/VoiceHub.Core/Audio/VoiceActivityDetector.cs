namespace VoiceHub.Core.Audio;

/// <summary>Voice activity and endpointing settings (section <c>audio:vad</c>).</summary>
public sealed class VadOptions
{
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
/// Energy-based voice activity detection with an adaptive noise floor, and endpointing of one
/// utterance: speech starts once frames stay above the floor by a margin for long enough, and
/// the utterance ends after a trailing silence, at the maximum length, or never starts before a
/// timeout. The floor is the quietest frame of the last few seconds: it drops at once when the
/// room gets quieter, and rises to a fan that was switched on once the window has passed (speech
/// has pauses; steady noise has none). Works on any block size; no allocations.
/// </summary>
public sealed class VoiceActivityDetector(VadOptions options)
{
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
        var speech = energyDb > _noiseFloorDb + options.SpeechMarginDb;
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
