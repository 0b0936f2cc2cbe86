using System.Runtime.CompilerServices;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.Core.Audio;

/// <summary>
/// The hub's speaker as its microphone hears it: a delay (buffering and air), a small speaker's
/// band and soft clipping, and a room's reverberation.
/// </summary>
public sealed record EchoPath(int DelaySamples, double LowPass, double HighPass, double Drive, (int Delay, float Gain)[] Room)
{
    /// <summary>A plausible kitchen: 10-60 ms delay, 150 Hz to 4-7 kHz, 0.2-0.6 s reverberation time.</summary>
    public static EchoPath Random(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var rate = AudioFile.SampleRate;
        var rt60 = 0.2 + (random.NextDouble() * 0.4);
        var room = new List<(int, float)> { (0, 1f) };
        for (var i = 0; i < 40; i++)
        {
            var delay = 80 + random.Next((int)(rt60 * rate));
            room.Add((delay, (float)(Math.Pow(10, -3.0 * delay / (rt60 * rate)) * ((random.NextDouble() * 2) - 1) * 0.4)));
        }

        return new EchoPath((int)((0.01 + (random.NextDouble() * 0.05)) * rate), 0.35 + (random.NextDouble() * 0.3), 0.94, 1.5 + random.NextDouble(), [.. room]);
    }

    /// <summary>What the microphone picks up of <paramref name="sound"/> (longer by the delay).</summary>
    public float[] Apply(ReadOnlySpan<float> sound)
    {
        var shaped = new float[sound.Length + DelaySamples];
        double low = 0, high = 0, previous = 0;
        for (var i = 0; i < sound.Length; i++)
        {
            var x = Math.Tanh(Drive * sound[i]) / Drive;
            low += LowPass * (x - low);
            high = HighPass * (high + low - previous);
            previous = low;
            shaped[i + DelaySamples] = (float)high;
        }

        var echo = new float[shaped.Length];
        foreach (var (delay, gain) in Room)
        {
            for (var i = delay; i < echo.Length; i++)
            {
                echo[i] += shaped[i - delay] * gain;
            }
        }

        return echo;
    }

    /// <summary>
    /// What a speaker whose clock runs <paramref name="driftPpm"/> faster than the microphone's plays of
    /// <paramref name="sound"/> (repeated as needed), on the microphone's clock, <paramref name="length"/>
    /// samples from the moment both started together: the sound read at the speaker's rate through a
    /// band-limited (Hann-windowed sinc, 32 taps) interpolator, as a second crystal resamples it in
    /// the air; a plain linear interpolation would also filter the sound by its fractional position.
    /// </summary>
    public static float[] PlayedAtDrift(ReadOnlySpan<float> sound, double driftPpm, int length)
    {
        const int half = 16;
        var played = new float[length];
        var step = 1 + (driftPpm * 1e-6);
        for (var i = 0; i < length; i++)
        {
            var at = i * step;
            var whole = (long)Math.Floor(at);
            var fraction = at - whole;
            var sum = 0.0;
            for (var k = 1 - half; k <= half; k++)
            {
                var x = k - fraction;
                var window = 0.5 + (0.5 * Math.Cos(Math.PI * x / half));
                var sinc = Math.Abs(x) < 1e-9 ? 1 : Math.Sin(Math.PI * x) / (Math.PI * x);
                var index = whole + k;
                sum += index < 0 ? 0 : sound[(int)(index % sound.Length)] * sinc * window;
            }

            played[i] = (float)sum;
        }

        return played;
    }
}

/// <summary>
/// A faithful stand-in for the appliance's speaker and microphone in one room, for tests and
/// evaluations without hardware: the microphone hears a talker's recording and, through an
/// <see cref="EchoPath"/>, whatever the hub says (espeak-ng, as the real speaker), and the speaker
/// feed carries what was played at the moment it was played. Time is the stream's: an answer
/// plays over the next blocks the hub reads, and is cut off when its token is cancelled. A talker
/// may speak on cue: a set time after the hub starts its next answer (someone interrupting).
/// </summary>
public sealed class SimulatedRoom(float[] talker, EchoPath path, float echoGain, int seed = 1) : IAudioSource, ISpeaker, IDisposable
{
    private const int BlockSamples = 320;
    private readonly (StreamClock Clock, SpeakerFeed Feed) _speaker = Speaker();
    private readonly Lock _lock = new();
    private readonly List<float> _playing = []; // what the speaker has yet to play
    private readonly List<float> _echo = []; // what the microphone has yet to hear of it
    private readonly List<TaskCompletionSource> _answersPlaying = [];
    private readonly List<(float[] Sound, long Start, int Number, int Late)> _inFlight = []; // answers not yet played to the end, where in the stream each starts, and how late its speaker started
    private readonly List<(float[] Speech, TimeSpan Delay, int Answer)> _cues = [];
    private readonly Random _startJitter = new((seed * 7919) + path.DelaySamples); // rooms differ in how their answers start too
    private readonly Random _stampError = new((seed * 104729) + path.DelaySamples);
    private int? _nextAnswerStarts; // samples into the next block at which the answer just queued starts to play, by the speaker's timestamp
    private int _answersStarted;
    private float[] _cued = [];
    private int _cuedAt;
    private long _position;

    public string Name => "simulated room";

    public bool IsRealTime => false;

    public bool IsSpeaking
    {
        get
        {
            lock (_lock)
            {
                return _playing.Count > 0;
            }
        }
    }

    public SpeakerFeed Feed => _speaker.Feed;

    SpeakerFeed? ISpeaker.Feed => _speaker.Feed;

    /// <summary>Everything the hub said, in order (cut-off answers included).</summary>
    public List<string> Said { get; } = [];

    /// <summary>Which answers (1: the first) were cut off before their end.</summary>
    public List<int> InterruptedAnswers { get; } = [];

    /// <summary>How many answers were cut off before their end.</summary>
    public int Interrupted => InterruptedAnswers.Count;

    /// <summary>
    /// Each answer starts to play up to this much into a microphone block (at random), as on a real sound
    /// card: the speaker is opened anew for each answer. Without <see cref="Timestamps"/> the feed lines
    /// up with the microphone by when the audio loop reads it, and the answer's echo comes up to this
    /// much later than the feed says. Zero: every answer at the start of a block.
    /// </summary>
    public TimeSpan StartJitter { get; init; }

    /// <summary>
    /// The microphone's blocks carry their capture time and the speaker stamps when each answer
    /// starts, as on the appliance (the feed then places each answer where it started); false: a
    /// source with no clock, and each answer starts with the next block the audio loop reads.
    /// </summary>
    public bool Timestamps { get; init; } = true;

    /// <summary>How far off (either way, at random) the speaker's timestamp of each answer's start may be: the wake-up latency of the threads that take the times.</summary>
    public TimeSpan TimestampError { get; init; }

    /// <summary>How fast the hub talks (espeak-ng's words per minute).</summary>
    public int WordsPerMinute { get; init; } = 165;

    /// <summary>Seconds after the talker's recording the stream goes on (room noise only).</summary>
    public double TrailingSeconds { get; init; } = 3;

    /// <summary>The talker says <paramref name="speech"/> <paramref name="delay"/> after the hub starts its <paramref name="answer"/>th answer (1: the first).</summary>
    public void SayWhenTheHubTalks(float[] speech, TimeSpan delay, int answer = 1)
    {
        lock (_lock)
        {
            _cues.Add((speech, delay, answer));
        }
    }

    public Task SayAsync(string text, CancellationToken cancellationToken = default)
    {
        var sound = WakeSpeech.Render(text, "en-us", WordsPerMinute, 50) ?? throw new InvalidOperationException("espeak-ng cannot speak (is it installed?)");
        // Completed inline, on the stream's reader: the hub must see an answer end at the block where it
        // ends, not when a busy thread pool gets round to it while the stream races on.
        var done = new TaskCompletionSource();
        lock (_lock)
        {
            Said.Add(text);
            var queued = _playing.Count > 0; // follows the answer playing, on the speaker it has open: no start of its own
            var late = queued ? 0 : _startJitter.Next((int)(StartJitter.TotalSeconds * AudioFile.SampleRate) + 1);
            var echo = (float[])[.. new float[late], .. path.Apply(sound)];
            var offset = _playing.Count; // after what is still playing
            if (!queued)
            {
                var error = (int)(TimestampError.TotalSeconds * AudioFile.SampleRate);
                _nextAnswerStarts = late + _stampError.Next(-error, error + 1);
            }

            _playing.AddRange(sound);
            _inFlight.Add((sound, _position + offset, _answersStarted + 1, late));
            for (var i = 0; i < echo.Length; i++)
            {
                if (offset + i < _echo.Count)
                {
                    _echo[offset + i] += echo[i] * echoGain;
                }
                else
                {
                    _echo.Add(echo[i] * echoGain);
                }
            }

            _answersPlaying.Add(done);
            _answersStarted++;
            if (_cues.FindIndex(c => c.Answer == _answersStarted) is var cue and >= 0 && _cuedAt >= _cued.Length)
            {
                (_cued, var delay, _) = _cues[cue];
                _cues.RemoveAt(cue);
                _cuedAt = -(int)(delay.TotalSeconds * AudioFile.SampleRate) - offset;
            }
        }

        cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (_playing.Count > 0)
                {
                    InterruptedAnswers.Add(_inFlight.Count > 0 ? _inFlight[0].Number : _answersStarted);
                    _playing.Clear();
                    TakeBackUnplayedEcho();
                    _speaker.Feed.EndOfSound();
                }
            }

            EndAnswersPlaying();
        });
        return done.Task;
    }

    /// <summary>What already left the speaker still echoes (the room's reverberation); what was never played must not.</summary>
    private void TakeBackUnplayedEcho()
    {
        foreach (var (sound, start, _, late) in _inFlight)
        {
            var played = (int)Math.Clamp(_position - start, 0, sound.Length);
            if (played == sound.Length)
            {
                continue; // played to the end already (answers queued back to back): all of its echo is real
            }

            var unplayed = path.Apply(sound.AsSpan(played)); // the path is linear after its per-sample clipping: echoes add up
            var at = (int)(start + played - _position) + late;
            for (var i = 0; i < unplayed.Length && at + i < _echo.Count; i++)
            {
                _echo[at + i] -= unplayed[i] * echoGain;
            }
        }

        _inFlight.Clear();
    }

    public async IAsyncEnumerable<AudioBlock> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        var length = talker.Length + (int)(TrailingSeconds * AudioFile.SampleRate);
        var microphone = new float[BlockSamples];
        var played = new float[BlockSamples];
        var limit = length + (60 * AudioFile.SampleRate); // a hub that keeps talking (an alarm) does not keep the stream open forever
        for (var at = 0; at + BlockSamples <= length || (Pending && at < limit); at += BlockSamples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ended = false;
            lock (_lock)
            {
                var n = Math.Min(BlockSamples, _playing.Count);
                _playing.CopyTo(0, played, 0, n);
                _playing.RemoveRange(0, n);
                Array.Clear(played, n, BlockSamples - n);
                _speaker.Clock.Samples = _position + (n > 0 ? _nextAnswerStarts ?? 0 : 0); // when the speaker writes (its answer's start, for a new one)
                _nextAnswerStarts = n > 0 ? null : _nextAnswerStarts;
                _speaker.Feed.Write(played.AsSpan(0, n), AudioFile.SampleRate);
                if (n > 0 && _playing.Count == 0)
                {
                    _speaker.Feed.EndOfSound(); // as the speaker does when an answer ends
                    _inFlight.Clear();
                    ended = true;
                }

                for (var i = 0; i < BlockSamples; i++)
                {
                    var voice = at + i < talker.Length ? talker[at + i] : 0f;
                    if (_cuedAt < _cued.Length)
                    {
                        voice += _cuedAt >= 0 ? _cued[_cuedAt] : 0f;
                        _cuedAt++;
                    }

                    var echo = i < _echo.Count ? _echo[i] : 0f;
                    microphone[i] = Math.Clamp(voice + echo + (float)((random.NextDouble() - 0.5) * 0.001), -1f, 1f);
                }

                _echo.RemoveRange(0, Math.Min(BlockSamples, _echo.Count));
            }

            _position += BlockSamples; // first: an answer queued from the continuation below starts after this block
            if (ended)
            {
                EndAnswersPlaying(); // outside the lock: the hub's continuation may queue its next answer here
            }

            yield return new AudioBlock(microphone, AudioFile.Time(_position - BlockSamples), Timestamps ? StreamClock.At(_position) : 0); // captured at its end, by the stream's clock
            if (at % AudioFile.SampleRate == 0)
            {
                await Task.Yield();
            }
        }
    }

    private void EndAnswersPlaying()
    {
        TaskCompletionSource[] ended;
        lock (_lock)
        {
            ended = [.. _answersPlaying];
            _answersPlaying.Clear();
        }

        // Inline even when the reader runs under a synchronization context (a test framework's): with
        // one, the runtime would queue the continuations instead.
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            foreach (var answer in ended)
            {
                answer.TrySetResult();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    /// <summary>Something is still to be played or heard: the stream runs on until it is.</summary>
    private bool Pending
    {
        get
        {
            lock (_lock)
            {
                return _playing.Count > 0 || _echo.Count > 0 || _cuedAt < _cued.Length;
            }
        }
    }

    public void Dispose() => _speaker.Feed.Dispose();

    private static (StreamClock, SpeakerFeed) Speaker()
    {
        var clock = new StreamClock();
        return (clock, new SpeakerFeed(TimeSpan.FromSeconds(1), clock: clock));
    }

    /// <summary>The stream's time as a clock: a timestamp per sample (from 1: 0 means no time).</summary>
    private sealed class StreamClock : TimeProvider
    {
        /// <summary>Where in the stream it is now.</summary>
        public long Samples { get; set; }

        public override long TimestampFrequency => AudioFile.SampleRate;

        public override long GetTimestamp() => At(Samples);

        public static long At(long samples) => samples + 1;
    }
}
