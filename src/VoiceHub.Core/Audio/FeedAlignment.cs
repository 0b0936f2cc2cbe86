using System.Numerics;

namespace VoiceHub.Core.Audio;

/// <summary>
/// Keeps the hub's echo where the echo canceller learned it, behind the speaker feed. An adaptive
/// filter learns the echo at fixed delays, and two things move it:
/// - each answer opens the speaker anew, and the feed lines up with the microphone by when the audio
///   loop reads it: an answer can start a block (20 ms) off from where the last one did;
/// - a speaker and a microphone on separate sound cards run on separate crystals: at 100 ppm the echo
///   slides 1.6 samples a second, and the filter loses it within a second or two.
/// While the hub's sound plays, this measures the echo's delay behind the feed (GCC-PHAT
/// cross-correlation of the microphone with the feed, first after 128 ms of a stretch of sound, then
/// every quarter second over the last half second, to a fraction of a sample), takes the clocks'
/// difference from how the delay moves within each stretch (a least-squares slope pooled over the
/// stretches, the recent ones weighing most), and reads the feed at the speaker's rate and offset
/// (band-limited interpolation: a cubic one loses the top octave of the echo) so that the echo
/// stays at the delay the filter learned. Not thread-safe: the audio loop owns it.
/// </summary>
public sealed class FeedAlignment
{
    /// <summary>Clocks closer than this (parts per million) count as one (the drift is not worth telling).</summary>
    public const double NegligiblePpm = 5;

    /// <summary>The most a pair of sound cards is believed to differ; a larger slope is a measuring error.</summary>
    private const double LargestPpm = 1000;

    private const int Window = 8192; // half a second of microphone and feed per measurement
    private const int FirstWindow = 2048; // the first measurement of a stretch, soon after it starts
    private const int Hop = 4000; // then a measurement every quarter second
    private const int History = 2 * Window; // the feed kept for measuring and re-timing

    /// <summary>Within a stretch, the echo's delay is looked for this close to where it was before (also keeps a periodic sound, an alarm's tone, on one peak).</summary>
    private const int TrackSamples = 4;

    /// <summary>A measurement counts when its peak stands this far above the correlation's spread.</summary>
    private const double LeastPeakToSpread = 8;

    /// <summary>
    /// A stretch's first measurement counts only when no other peak comes this close to its highest: a
    /// tone (an alarm's beep) correlates as well one period off, and a whole-sample move to the wrong
    /// period puts the echo where the filter never learned it. Reflections of a room stay well under.
    /// </summary>
    private const double MostRivalPeak = 0.7;

    /// <summary>How much of the pooled slope's evidence each new stretch keeps (clocks drift with temperature).</summary>
    private const double Forgetting = 0.95;

    /// <summary>Evidence (seconds squared of spread in measuring times) before the slope is trusted: about three seconds of answers.</summary>
    private const double LeastEvidence = 5;

    /// <summary>
    /// How far the feed is held back behind the echo's first measured delay, at most: the interpolator
    /// reads <see cref="HalfTaps"/> ahead, an answer may start up to a microphone block (20 ms) earlier
    /// than the first, and a faster speaker clock makes the feed run ahead by the drift so far; all come
    /// out of this much of the echo's own delay (25 ms; a speaker's buffer alone is longer), and the
    /// filter keeps at least 2 ms of it.
    /// </summary>
    private const int MostHeldBack = 400;

    /// <summary>The interpolator: a Blackman-windowed sinc of 2 × 16 taps, tabulated at 512 fractional positions.</summary>
    private const int HalfTaps = 16;
    private const int Phases = 512;
    private static readonly float[] s_kernel = Kernel();

    private readonly int _longestDelay;
    private readonly float[] _feed = new float[History];
    private readonly float[] _microphone = new float[Window];
    private readonly Complex[] _a = new Complex[2 * Window];
    private readonly Complex[] _b = new Complex[2 * Window];
    private long _position; // samples since the stretch began
    private double? _anchor; // the echo's delay behind the feed at the start of the first stretch it was found in (samples)
    private bool _anchorSettled; // that stretch is over: later ones are moved to it
    private double _moved; // whole samples this stretch's feed is moved by, to put the echo where it was in that one
    private int _heldBack = HalfTaps + 1; // how far the feed is held back behind the echo at that delay (before: as little as the interpolator allows)
    private double _startDelay; // the echo's delay behind the feed at this stretch's start, as measured (or as the last stretch's)
    private double _pooledSxx, _pooledSxy; // completed stretches
    private double _n, _st, _sd, _stt, _std; // this stretch's measurements (t in samples, delay in samples)
    private double? _lastDelay;
    private int _missed; // measurements in a row that found no echo where it was tracked

    /// <param name="longestDelay">The longest echo delay looked for, in samples (the canceller's tail).</param>
    public FeedAlignment(int longestDelay) => _longestDelay = Math.Clamp(longestDelay, 16, Window / 2);

    /// <summary>How much faster the speaker's clock runs than the microphone's, in parts per million, once measured.</summary>
    public double? DriftPpm
    {
        get
        {
            var (sxx, sxy) = (_pooledSxx + CurrentSxx, _pooledSxy + CurrentSxy);
            var seconds2 = sxx / ((double)AudioFile.SampleRate * AudioFile.SampleRate);
            var ppm = -sxy / sxx * 1e6;
            return seconds2 < LeastEvidence || Math.Abs(ppm) > LargestPpm ? null : ppm;
        }
    }

    /// <summary>The echo has been found behind the feed, and the feed held back behind it for good.</summary>
    public bool Found => _anchor is not null;

    /// <summary>The echo's delay behind the feed when this stretch started, in samples, once measured.</summary>
    public double? DelaySamples => _anchor is null ? null : _startDelay;

    /// <summary>
    /// The drift followed: none below 1 ppm, where one clock's measuring noise (0.2-0.4 ppm) lies and a
    /// sample takes half a minute to slip. Kept from when the slope's sums last changed: it is read for every sample.
    /// </summary>
    private double Drift { get; set; }

    private void FollowDrift() => Drift = DriftPpm is { } ppm && Math.Abs(ppm) >= 1 ? ppm * 1e-6 : 0;

    private double CurrentSxx => _n < 2 ? 0 : _stt - (_st * _st / _n);

    private double CurrentSxy => _n < 2 ? 0 : _std - (_st * _sd / _n);

    /// <summary>A new stretch of the hub's sound: the feed starts again, at the delay the last one started at until measured.</summary>
    public void Restart()
    {
        _pooledSxx = (_pooledSxx * Forgetting) + CurrentSxx;
        _pooledSxy = (_pooledSxy * Forgetting) + CurrentSxy;
        (_n, _st, _sd, _stt, _std) = (0, 0, 0, 0, 0);
        _lastDelay = null;
        _missed = 0;
        _anchorSettled = _anchor is not null;
        _position = 0;
        Array.Clear(_feed);
        Array.Clear(_microphone);
        FollowDrift();
    }

    /// <summary>One sample of the microphone and of the feed at the same moment; returns the feed's sample where the filter expects it.</summary>
    public float Next(float microphone, float feed)
    {
        _feed[_position % History] = feed;
        _microphone[_position % Window] = microphone;
        _position++;
        if (_position is FirstWindow or 2 * FirstWindow || (_position >= Window && (_position - Window) % Hop == 0))
        {
            Measure((int)Math.Min(Window, _position));
        }

        // The echo at this sample left the speaker startDelay - drift × t earlier; the filter expects it where it was first found.
        // An answer starts whole samples off from another (the feed is read by the sample): whole-sample moves keep the
        // feed's samples as they are, where a fractional one would filter them. Until the echo is first found (in the
        // first answer's first eighth of a second, as a rule), the feed is held back as little as possible: an echo
        // path shorter than the hold would be cancelled only after it is found.
        var t = _position - 1;
        var at = t + (t * Drift) - _moved - _heldBack;
        // Reading ahead of what has arrived is not possible: there the echo is not followed.
        return Interpolate(Math.Clamp(at, _position - History + HalfTaps, _position - 1 - HalfTaps));
    }

    /// <summary>The feed between its samples, at <paramref name="at"/> (silence before the stretch).</summary>
    private float Interpolate(double at)
    {
        var whole = (long)Math.Floor(at);
        var phase = (int)Math.Round((at - whole) * Phases);
        if (phase == Phases)
        {
            (whole, phase) = (whole + 1, 0);
        }

        var kernel = s_kernel.AsSpan(phase * 2 * HalfTaps, 2 * HalfTaps);
        var sum = 0f;
        for (var k = 0; k < kernel.Length; k++)
        {
            var index = whole + k - HalfTaps + 1;
            sum += index < 0 ? 0 : _feed[index % History] * kernel[k];
        }

        return sum;
    }

    /// <summary>Taps for sample offsets 1 - <see cref="HalfTaps"/> .. <see cref="HalfTaps"/> from the whole position, per fractional phase.</summary>
    private static float[] Kernel()
    {
        var kernel = new float[Phases * 2 * HalfTaps];
        for (var phase = 0; phase < Phases; phase++)
        {
            var fraction = (double)phase / Phases;
            for (var k = 0; k < 2 * HalfTaps; k++)
            {
                var x = k - HalfTaps + 1 - fraction;
                var w = 0.42 + (0.5 * Math.Cos(Math.PI * x / HalfTaps)) + (0.08 * Math.Cos(2 * Math.PI * x / HalfTaps));
                kernel[(phase * 2 * HalfTaps) + k] = (float)(Math.Abs(x) < 1e-12 ? 1 : w * Math.Sin(Math.PI * x) / (Math.PI * x));
            }
        }

        return kernel;
    }

    /// <summary>The echo's delay behind the feed over the last <paramref name="window"/> samples, if the feed played and the correlation shows one clear peak.</summary>
    private void Measure(int window)
    {
        var size = 2 * window;
        var a = _a.AsSpan(0, size);
        var b = _b.AsSpan(0, size);
        var feedEnergy = 0.0;
        var microphoneEnergy = 0.0;
        for (var k = 0; k < window; k++)
        {
            var at = _position - window + k;
            var (f, m) = (_feed[at % History], _microphone[at % Window]);
            feedEnergy += f * (double)f;
            microphoneEnergy += m * (double)m;
            a[k] = m;
            b[k] = f;
        }

        if (feedEnergy / window < 1e-6 || microphoneEnergy / window < 1e-10)
        {
            return; // a pause in the hub's sound, or a microphone that hears nothing: nothing to follow
        }

        a[window..].Clear();
        b[window..].Clear();
        Fft(a, inverse: false);
        Fft(b, inverse: false);
        for (var k = 0; k < size; k++)
        {
            var cross = a[k] * Complex.Conjugate(b[k]);
            a[k] = cross / (cross.Magnitude + 1e-9); // the phase transform: every band counts alike
        }

        Fft(a, inverse: true);
        var longest = Math.Min(_longestDelay, window / 2); // a longer lag leaves too little of the window overlapping
        var (from, to) = _lastDelay is { } last ? ((int)Math.Max(1, last - TrackSamples), (int)Math.Min(longest - 1, last + TrackSamples + 1)) : (1, longest - 1);
        if (from >= to)
        {
            return;
        }

        var peak = from;
        var spread = 0.0;
        for (var lag = 1; lag < longest; lag++)
        {
            spread += a[lag].Real * a[lag].Real;
        }

        for (var lag = from; lag <= to; lag++)
        {
            peak = a[lag].Real > a[peak].Real ? lag : peak;
        }

        spread = Math.Sqrt(spread / (longest - 1));
        // Written to fail on zeros and NaN as well: only a peak that stands out is an echo.
        if (!(a[peak].Real > 0 && a[peak].Real >= LeastPeakToSpread * spread) || (peak == from && from > 1) || peak == to)
        {
            if (_lastDelay is not null && ++_missed >= 2)
            {
                _lastDelay = null; // lost (a new answer within the echo tail, at another delay): looked for everywhere again
            }

            return;
        }

        if (_lastDelay is null)
        {
            var rival = 0.0;
            for (var lag = 1; lag < longest; lag++)
            {
                rival = Math.Abs(lag - peak) > 2 ? Math.Max(rival, a[lag].Real) : rival;
            }

            if (rival > MostRivalPeak * a[peak].Real)
            {
                return;
            }

            if (_anchor is { } found && _anchorSettled && Math.Abs(peak + (Drift * _position) - found) > 2 * MostHeldBack)
            {
                return; // further from where the echo has always been than an answer's start moves it: a reflection, or something else
            }
        }

        _missed = 0;

        var (left, centre, right) = (a[peak - 1].Real, a[peak].Real, a[peak + 1].Real);
        var curvature = left - (2 * centre) + right;
        var delay = peak + (curvature < 0 ? 0.5 * (left - right) / curvature : 0);
        _lastDelay = delay;
        var t = _position - (window / 2.0);
        if (window == Window)
        {
            // The slope is taken from the full windows only: a short one measures a little differently, which would pass for drift.
            (_n, _st, _sd, _stt, _std) = (_n + 1, _st + t, _sd + delay, _stt + (t * t), _std + (t * delay));
            FollowDrift();
        }

        // Each measurement, drift taken out, says where the stretch started.
        _startDelay = _n > 0 ? (_sd + (Drift * _st)) / _n : delay + (Drift * t);
        if (_anchor is null)
        {
            // The first delay measured sets how far the feed is held back behind the echo: as far as the re-timing may need.
            _heldBack = (int)Math.Clamp(_startDelay - 32, HalfTaps + 1, MostHeldBack);
        }

        if (!_anchorSettled)
        {
            _anchor = _startDelay; // refined over the first stretch; the feed is not moved in it
        }
        else if (Math.Abs(_startDelay - _anchor!.Value - _moved) > 0.75)
        {
            // By whole samples, and only when clearly elsewhere: a move of one sample is a new echo path to the filter.
            _moved = Math.Round(_startDelay - _anchor.Value);
        }
    }

    /// <summary>In-place radix-2 FFT (the inverse unscaled: only where its peak is matters).</summary>
    private static void Fft(Span<Complex> data, bool inverse)
    {
        var n = data.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1)
            {
                j ^= bit;
            }

            j ^= bit;
            if (i < j)
            {
                (data[i], data[j]) = (data[j], data[i]);
            }
        }

        for (var length = 2; length <= n; length <<= 1)
        {
            var angle = 2 * Math.PI / length * (inverse ? 1 : -1);
            var step = new Complex(Math.Cos(angle), Math.Sin(angle));
            for (var start = 0; start < n; start += length)
            {
                var w = Complex.One;
                for (var k = 0; k < length / 2; k++)
                {
                    var even = data[start + k];
                    var odd = data[start + k + (length / 2)] * w;
                    data[start + k] = even + odd;
                    data[start + k + (length / 2)] = even - odd;
                    w *= step;
                }
            }
        }
    }
}
