using System.Numerics;

namespace VoiceHub.Core.Audio;

/// <summary>
/// The speaker feed re-timed to the microphone's clock. A speaker and a microphone on separate sound
/// cards run on separate crystals: at 100 ppm the echo slides 1.6 samples a second against the
/// feed, and an adaptive echo filter, which learns the echo at fixed delays, loses it within a
/// second or two. This follows the echo's delay behind the feed while the hub's sound plays
/// (GCC-PHAT cross-correlation of the microphone with the feed, every quarter second, to a fraction
/// of a sample), takes the clocks' difference from how that delay moves within each stretch of sound
/// (a least-squares slope pooled over the stretches, the recent ones weighing most), and from then on
/// reads the feed at the speaker's rate (band-limited interpolation: a cubic one loses the top octave
/// of the echo, 12.8 dB of cancellation instead of 20 on broadband sound), so the echo stays where
/// the filter learned it. With one clock it measures about nothing and the feed passes unchanged.
/// Not thread-safe: the audio loop owns it.
/// </summary>
public sealed class SpeakerClockDrift
{
    /// <summary>Clocks closer than this (parts per million) are taken for one: the feed passes unchanged.</summary>
    public const double NegligiblePpm = 5;

    /// <summary>The most a pair of sound cards is believed to differ; a larger slope is a measuring error.</summary>
    private const double LargestPpm = 1000;

    private const int Window = 8192; // half a second of microphone and feed per measurement
    private const int Hop = 4000; // a measurement every quarter second
    private const int FftSize = 2 * Window;
    private const int History = 2 * Window; // the feed kept for measuring and re-timing

    /// <summary>Within a stretch, the echo's delay is looked for this close to where it was a quarter second before (also keeps a periodic sound, an alarm's tone, on one peak).</summary>
    private const int TrackSamples = 4;

    /// <summary>A measurement counts when its peak stands this far above the correlation's spread.</summary>
    private const double LeastPeakToSpread = 8;

    /// <summary>How much of the pooled slope's evidence each new stretch keeps (clocks drift with temperature).</summary>
    private const double Forgetting = 0.95;

    /// <summary>Evidence (seconds squared of spread in measuring times) before the slope is trusted: about one three-second stretch.</summary>
    private const double LeastEvidence = 5;

    /// <summary>
    /// The most the re-timed feed is held back: the interpolator reads <see cref="HalfTaps"/> ahead, and
    /// when the speaker's clock is the faster one, re-timing reads further ahead by the drift so far;
    /// both come out of the echo's own delay (8 ms: 70 s of continuous sound at 100 ppm before the
    /// drift is no longer followed).
    /// </summary>
    private const int MostHeldBack = 128;

    /// <summary>The interpolator: a Blackman-windowed sinc of 2 × 16 taps, tabulated at 512 fractional positions.</summary>
    private const int HalfTaps = 16;
    private const int Phases = 512;
    private static readonly float[] s_kernel = Kernel();

    private readonly int _longestDelay;
    private readonly float[] _feed = new float[History];
    private readonly float[] _microphone = new float[Window];
    private readonly Complex[] _a = new Complex[FftSize];
    private readonly Complex[] _b = new Complex[FftSize];
    private long _position; // samples since the stretch began
    private double _readAt; // where in the stretch's feed the re-timed sample is read
    private double _pooledSxx, _pooledSxy; // completed stretches
    private double _n, _st, _sd, _stt, _std; // this stretch's measurements (t in seconds, delay in samples)
    private double? _lastDelay;
    private double _shortestDelay = double.MaxValue;
    private int _heldBack;

    /// <param name="longestDelay">The longest echo delay looked for, in samples (the canceller's tail).</param>
    public SpeakerClockDrift(int longestDelay) => _longestDelay = Math.Clamp(longestDelay, 16, Window / 2);

    /// <summary>How much faster the speaker's clock runs than the microphone's, in parts per million, once measured.</summary>
    public double? DriftPpm
    {
        get
        {
            var (sxx, sxy) = (_pooledSxx + CurrentSxx, _pooledSxy + CurrentSxy);
            return sxx < LeastEvidence ? null : Math.Clamp(-sxy / sxx / AudioFile.SampleRate * 1e6, -LargestPpm, LargestPpm);
        }
    }

    /// <summary>The feed is being re-timed (set at the start of each stretch from what was measured before it).</summary>
    public bool Compensating { get; private set; }

    private double CurrentSxx => _n < 2 ? 0 : _stt - (_st * _st / _n);

    private double CurrentSxy => _n < 2 ? 0 : _std - (_st * _sd / _n);

    /// <summary>A new stretch of the hub's sound: the feed starts again, and the re-timing with it.</summary>
    public void Restart()
    {
        _pooledSxx = (_pooledSxx * Forgetting) + CurrentSxx;
        _pooledSxy = (_pooledSxy * Forgetting) + CurrentSxy;
        (_n, _st, _sd, _stt, _std) = (0, 0, 0, 0, 0);
        _lastDelay = null;
        var drift = DriftPpm ?? 0;
        // Hysteresis: a measured one-clock pair (a few ppm of measuring noise) does not flip between stretches.
        Compensating = Math.Abs(drift) >= (Compensating ? NegligiblePpm / 2 : NegligiblePpm);
        _heldBack = Compensating ? (int)Math.Clamp(_shortestDelay - 32, 0, MostHeldBack) : 0;
        _position = 0;
        _readAt = -_heldBack;
        Array.Clear(_feed);
        Array.Clear(_microphone);
    }

    /// <summary>One sample of the microphone and of the feed at the same moment; returns the feed's sample on the microphone's clock.</summary>
    public float Next(float microphone, float feed)
    {
        _feed[_position % History] = feed;
        _microphone[_position % Window] = microphone;
        _position++;
        if (_position >= Window && _position % Hop == 0)
        {
            Measure();
        }

        if (!Compensating)
        {
            return feed;
        }

        // Reading ahead of what has arrived is not possible: there the drift is no longer followed.
        var at = Math.Clamp(_readAt, _position - History + HalfTaps, _position - 1 - HalfTaps);
        _readAt = at + 1 + ((DriftPpm ?? 0) * 1e-6);
        return Interpolate(at);
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

    /// <summary>The echo's delay behind the feed over the last half second, if the feed played and the correlation shows one clear peak.</summary>
    private void Measure()
    {
        var feedEnergy = 0.0;
        for (var k = 0; k < Window; k++)
        {
            var at = _position - Window + k;
            var f = _feed[at % History];
            feedEnergy += f * (double)f;
            _a[k] = _microphone[at % Window];
            _b[k] = f;
        }

        if (feedEnergy / Window < 1e-6)
        {
            return; // a pause in the hub's sound: nothing to follow
        }

        Array.Clear(_a, Window, FftSize - Window);
        Array.Clear(_b, Window, FftSize - Window);
        Fft(_a, inverse: false);
        Fft(_b, inverse: false);
        for (var k = 0; k < FftSize; k++)
        {
            var cross = _a[k] * Complex.Conjugate(_b[k]);
            _a[k] = cross / (cross.Magnitude + 1e-9); // the phase transform: every band counts alike
        }

        Fft(_a, inverse: true);
        var (from, to) = _lastDelay is { } last ? ((int)Math.Max(1, last - TrackSamples), (int)Math.Min(_longestDelay - 1, last + TrackSamples + 1)) : (1, _longestDelay - 1);
        var peak = from;
        var spread = 0.0;
        for (var lag = 1; lag < _longestDelay; lag++)
        {
            spread += _a[lag].Real * _a[lag].Real;
        }

        for (var lag = from; lag <= to; lag++)
        {
            peak = _a[lag].Real > _a[peak].Real ? lag : peak;
        }

        spread = Math.Sqrt(spread / (_longestDelay - 1));
        if (_a[peak].Real < LeastPeakToSpread * spread || (peak == from && from > 1) || peak == to)
        {
            return;
        }

        var (left, centre, right) = (_a[peak - 1].Real, _a[peak].Real, _a[peak + 1].Real);
        var curvature = left - (2 * centre) + right;
        var delay = peak + (curvature < 0 ? 0.5 * (left - right) / curvature : 0);
        _lastDelay = delay;
        _shortestDelay = Math.Min(_shortestDelay, delay);
        var t = (_position - (Window / 2.0)) / AudioFile.SampleRate;
        (_n, _st, _sd, _stt, _std) = (_n + 1, _st + t, _sd + delay, _stt + (t * t), _std + (t * delay));
    }

    /// <summary>In-place radix-2 FFT (the inverse unscaled: only where its peak is matters).</summary>
    private static void Fft(Complex[] data, bool inverse)
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
