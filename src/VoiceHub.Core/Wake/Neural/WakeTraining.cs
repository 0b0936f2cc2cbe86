using System.Diagnostics;
using System.Numerics.Tensors;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>A recording that cannot teach the wake phrase (no speech, clipped, too short or long).</summary>
public sealed class WakeEnrollmentException(string message) : Exception(message);

/// <summary>One recording of the wake phrase, 16 kHz mono in [-1, 1].</summary>
public sealed record EnrollmentClip(string Name, float[] Samples)
{
    private const int FrameSamples = 160;

    /// <summary>How the problem of a clip with too many samples at full scale begins (after the clip's name and a colon).</summary>
    public const string Clipped = "clipped";

    /// <summary>How the problem of a clip with only a syllable or two of sound begins (after the clip's name and a colon).</summary>
    public const string TooLittleSpeech = "too little speech";

    /// <summary>The most sound a wake phrase takes.</summary>
    public static readonly TimeSpan LongestPhrase = TimeSpan.FromSeconds(2.5);

    /// <summary>
    /// Where the speech is (10 ms frames above the clip's noise floor by 15 dB and above an absolute
    /// floor), or a one-line problem naming the clip. Sound from first to last frame may take up to
    /// <paramref name="longest"/> (default <see cref="LongestPhrase"/>).
    /// </summary>
    public (int StartSample, int EndSample) FindSpeech(TimeSpan? longest = null)
    {
        var frames = Samples.Length / FrameSamples;
        if (frames < 30)
        {
            throw new WakeEnrollmentException($"{Name}: too short ({Samples.Length / 16000.0:0.00} s); record the phrase with a moment of quiet around it");
        }

        var clipped = Samples.Count(s => Math.Abs(s) >= 0.999f);
        if (clipped > Samples.Length / 200)
        {
            throw new WakeEnrollmentException($"{Name}: {Clipped} ({100.0 * clipped / Samples.Length:0.0}% of samples at full scale); record it quieter or further from the microphone");
        }

        var levels = new double[frames];
        for (var f = 0; f < frames; f++)
        {
            var frame = Samples.AsSpan(f * FrameSamples, FrameSamples);
            levels[f] = 10 * Math.Log10((TensorPrimitives.SumOfSquares(frame) / FrameSamples) + 1e-10);
        }

        var floor = levels.Order().ElementAt(frames / 10);
        var threshold = Math.Max(floor + 15, -50);
        var voiced = Enumerable.Range(0, frames).Where(f => levels[f] > threshold).ToList();
        if (voiced.Count == 0)
        {
            throw new WakeEnrollmentException($"{Name}: no speech in it (nothing louder than the background by 15 dB)");
        }

        var duration = (voiced[^1] - voiced[0] + 1) * FrameSamples / 16000.0;
        if (voiced.Count < 15)
        {
            throw new WakeEnrollmentException($"{Name}: {TooLittleSpeech} ({voiced.Count * 10} ms); say the whole phrase");
        }

        var most = longest ?? LongestPhrase;
        if (duration > most.TotalSeconds)
        {
            throw new WakeEnrollmentException(longest is null
                ? $"{Name}: {duration:0.0} s of sound; a wake phrase takes under {most.TotalSeconds:0.#} s (record only the phrase)"
                : $"{Name}: {duration:0.0} s of sound, over {most.TotalSeconds:0.#} s (record only what was asked for)");
        }

        return (voiced[0] * FrameSamples, (voiced[^1] + 1) * FrameSamples);
    }
}

/// <summary>
/// Trains a personal wake verifier on openWakeWord-style embedding windows. Positives: the
/// recordings of the phrase, each many times over with changed speed, gain, room reverberation
/// and background noise, taken at the windows that end just after the phrase. Negatives: speech
/// that is not the phrase (espeak-ng's voices saying everyday sentences and words that sound like
/// the phrase's words), the same treatment, and noise. The network is small (one hidden layer)
/// and trains in seconds.
/// </summary>
public sealed class WakeTrainer(WakeFeatureModels features)
{
    /// <summary>How each recording of the user is varied: this many copies of it.</summary>
    public int AugmentationsPerRecording { get; init; } = 40;

    /// <summary>Copies of each espeak-ng rendering (they vary in voice already).</summary>
    public int AugmentationsPerRendering { get; init; } = 5;

    public int HiddenUnits { get; init; } = 32;

    public int Epochs { get; init; } = 40;

    public int Seed { get; init; } = 7;

    /// <summary>Real speech that is no wake phrase (see <see cref="NegativeSpeechBank"/>).</summary>
    public NegativeSpeechBank? Bank { get; init; }

    /// <summary>Progress lines for the command line.</summary>
    public Action<string>? Progress { get; init; }

    public EnrolledWakeModel Train(string phrase, IReadOnlyList<EnrollmentClip> recordings, IReadOnlyList<EnrollmentClip> renderings, IReadOnlyList<float[]> negativeSpeech, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        ArgumentNullException.ThrowIfNull(renderings);
        ArgumentNullException.ThrowIfNull(negativeSpeech);
        var clips = recordings.Concat(renderings).ToList();
        if (clips.Count == 0)
        {
            throw new WakeEnrollmentException("no recordings of the phrase given");
        }

        var clock = Stopwatch.StartNew();
        var random = new Random(Seed);
        // A user's recording that cannot be used is an error naming it; a rendering that cannot (espeak-ng
        // said a long phrase slowly) is only left out.
        var speech = recordings.Select(c => (Clip: c, Speech: c.FindSpeech(), Copies: AugmentationsPerRecording))
            .Concat(renderings.Select(c => (Clip: c, Speech: TryFindSpeech(c), Copies: AugmentationsPerRendering)).Where(r => r.Speech.End > 0))
            .ToList();
        if (speech.Count == 0)
        {
            throw new WakeEnrollmentException($"no rendering of \"{phrase}\" by espeak-ng could be used");
        }

        var noises = NoiseBank(random, negativeSpeech);

        var positives = new List<float[]>();
        foreach (var (clip, (start, end), copies) in speech)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var a = 0; a < copies; a++)
            {
                var (audio, phraseEnd) = Augment(clip.Samples[Math.Max(0, start - 4000)..Math.Min(clip.Samples.Length, end + 1600)], end - Math.Max(0, start - 4000), random, noises, a == 0);
                positives.AddRange(WindowsAround(audio, phraseEnd));
            }
        }

        Progress?.Invoke($"{positives.Count} positive windows from {clips.Count} recordings ({clock.Elapsed.TotalSeconds:0.0} s)");
        var negatives = new List<float[]>();
        foreach (var audio in negativeSpeech)
        {
            cancellationToken.ThrowIfCancellationRequested();
            negatives.AddRange(AllWindows(Augment(audio, audio.Length, random, noises, plain: false).Audio, stride: 2));
        }

        // A quiet room's noise as well as a loud one's: a model that has only met noise at one level
        // fires on the same noise at another.
        foreach (var noise in noises)
        {
            for (var copy = 0; copy < 3; copy++)
            {
                var level = (float)Math.Pow(10, (-55 + (random.NextDouble() * 40)) / 20);
                negatives.AddRange(AllWindows(Normalise((float[])noise.Clone(), level), stride: 2));
            }
        }

        if (Bank is not null)
        {
            negatives.AddRange(Bank.Windows(stride: 1));
        }

        Progress?.Invoke($"{negatives.Count} negative windows ({clock.Elapsed.TotalSeconds:0.0} s)");
        // A model that has heard its user's own recordings is sure of them: eval wake put its best balance at 0.9
        // (0.5 for a model of renderings alone, whose phrase threshold comes from the phrase's sensitivity).
        var model = Fit(phrase, positives, negatives, random, threshold: recordings.Count > 0 ? 0.9 : 0.5, cancellationToken);
        Progress?.Invoke($"trained in {clock.Elapsed.TotalSeconds:0.0} s");
        return model;
    }

    private static (int Start, int End) TryFindSpeech(EnrollmentClip clip)
    {
        try
        {
            return clip.FindSpeech();
        }
        catch (WakeEnrollmentException)
        {
            return (0, 0);
        }
    }

    /// <summary>Embedding windows that end 0 to 320 ms after the phrase ends (a detector fires somewhere there).</summary>
    private List<float[]> WindowsAround(float[] audio, int phraseEnd)
    {
        var windows = new List<float[]>();
        var stream = features.OpenStream();
        var padded = new float[audio.Length + 8000];
        audio.CopyTo(padded, 0);
        stream.Push(padded, s =>
        {
            var chunkEnd = s.Chunks * WakeFeatureModels.ChunkSamples;
            if (chunkEnd >= phraseEnd && chunkEnd <= phraseEnd + (4 * WakeFeatureModels.ChunkSamples) && s.Chunks > 5)
            {
                windows.Add(s.Window.ToArray());
            }
        });
        return windows;
    }

    private List<float[]> AllWindows(float[] audio, int stride)
    {
        var windows = new List<float[]>();
        var stream = features.OpenStream();
        stream.Push(audio, s =>
        {
            if (s.Chunks > 5 && s.Chunks % stride == 0)
            {
                windows.Add(s.Window.ToArray());
            }
        });
        return windows;
    }

    /// <summary>
    /// Backgrounds of a home, generated: white, pink and brown noise; clatter (dishes and cutlery:
    /// sparse knocks ringing at a few frequencies, as tones and as bursts of noise through
    /// resonances); running water (noise whose loudness wanders); hum with a fan; an appliance's
    /// low rumble; a wandering melody; and babble of the negative speech.
    /// </summary>
    internal static List<float[]> NoiseBank(Random random, IReadOnlyList<float[]> speech)
    {
        const int length = 16000 * 8;
        var bank = new List<float[]>();
        for (var kind = 0; kind < 3; kind++)
        {
            var noise = new float[length];
            double b0 = 0, b1 = 0, b2 = 0, brown = 0;
            for (var i = 0; i < length; i++)
            {
                var white = (random.NextDouble() * 2) - 1;
                b0 = (0.99765 * b0) + (white * 0.0990460);
                b1 = (0.96300 * b1) + (white * 0.2965164);
                b2 = (0.57000 * b2) + (white * 1.0526913);
                brown = Math.Clamp(brown + (white * 0.02), -1, 1);
                noise[i] = (float)(kind switch { 0 => white, 1 => (b0 + b1 + b2 + (white * 0.1848)) * 0.2, _ => brown });
            }

            bank.Add(Normalise(noise, 0.05f));
        }

        for (var variant = 0; variant < 3; variant++)
        {
            bank.Add(Normalise(Clatter(random, length, knocksPerSecond: 0.5 + (random.NextDouble() * 4)), 0.05f));
        }

        bank.Add(Normalise(Water(random, length), 0.05f));
        bank.Add(Normalise(Hum(random, length), 0.05f));
        bank.Add(Normalise(Melody(random, length), 0.05f));
        for (var variant = 0; variant < 2; variant++)
        {
            bank.Add(Normalise(Rumble(random, length), 0.05f));
            bank.Add(Normalise(ResonantKnocks(random, length, knocksPerSecond: 0.3 + (random.NextDouble() * 2)), 0.05f));
        }

        for (var b = 0; b < 3 && speech.Count > 0; b++)
        {
            var babble = new float[length];
            for (var voice = 0; voice < 4; voice++)
            {
                var source = speech[random.Next(speech.Count)];
                var offset = random.Next(length);
                for (var i = 0; i < length; i++)
                {
                    babble[i] += source[(offset + i) % source.Length];
                }
            }

            bank.Add(Normalise(babble, 0.05f));
        }

        return bank;
    }

    private static float[] Clatter(Random random, int length, double knocksPerSecond)
    {
        var audio = new float[length];
        for (var at = 0; at < length; at += 1 + (int)(-Math.Log(1 - random.NextDouble()) * 16000 / knocksPerSecond))
        {
            var loudness = 0.2 + random.NextDouble();
            for (var partial = 0; partial < 3; partial++)
            {
                var frequency = 500 + (random.NextDouble() * 5500);
                var decay = 0.02 + (random.NextDouble() * 0.2);
                for (var i = 0; at + i < length && i < decay * 16000 * 5; i++)
                {
                    audio[at + i] += (float)(loudness * Math.Exp(-i / (decay * 16000)) * Math.Sin(2 * Math.PI * frequency * i / 16000));
                }
            }
        }

        return audio;
    }

    /// <summary>An appliance's rumble (fridge, hood, dishwasher): noise below a few hundred hertz, a motor's low tone, slowly swelling.</summary>
    private static float[] Rumble(Random random, int length)
    {
        var noise = new float[length];
        var pole = Math.Exp(-2 * Math.PI * (100 + (random.NextDouble() * 500)) / 16000);
        double first = 0, second = 0;
        for (var i = 0; i < length; i++)
        {
            first = (pole * first) + ((1 - pole) * ((random.NextDouble() * 2) - 1));
            second = (pole * second) + ((1 - pole) * first);
            noise[i] = (float)second;
        }

        Normalise(noise, 1f);
        var motor = 80 + (random.NextDouble() * 170);
        var motorLevel = random.NextDouble() * 0.7;
        var swell = 0.1 + (random.NextDouble() * 0.5);
        for (var i = 0; i < length; i++)
        {
            var t = i / 16000.0;
            var tone = (Math.Sin(2 * Math.PI * motor * t) + (0.5 * Math.Sin(4 * Math.PI * motor * t))) * motorLevel;
            noise[i] = (float)((noise[i] + tone) * (1 + (0.3 * Math.Sin(2 * Math.PI * swell * t))));
        }

        return noise;
    }

    /// <summary>Knocks of dishes, pans and cutlery: short bursts of noise ringing through a few resonances each.</summary>
    private static float[] ResonantKnocks(Random random, int length, double knocksPerSecond)
    {
        var audio = new float[length];
        for (var at = random.Next(8000); at < length; at += 1 + (int)(-Math.Log(1 - random.NextDouble()) * 16000 / knocksPerSecond))
        {
            var burst = 80 + random.Next(400);
            var loudness = 0.1 + random.NextDouble();
            var ringing = 2 + random.Next(3);
            for (var r = 0; r < ringing; r++)
            {
                var radius = Math.Exp(-1 / ((0.01 + (random.NextDouble() * 0.15)) * 16000));
                var feedback = 2 * radius * Math.Cos(2 * Math.PI * (300 + (random.NextDouble() * 5700)) / 16000);
                double y1 = 0, y2 = 0;
                for (var i = 0; at + i < length && i < 16000; i++)
                {
                    var x = i < burst ? ((random.NextDouble() * 2) - 1) * loudness : 0;
                    var y = x + (feedback * y1) - (radius * radius * y2);
                    y2 = y1;
                    y1 = y;
                    audio[at + i] += (float)(y * (1 - radius));
                }
            }
        }

        return audio;
    }

    private static float[] Water(Random random, int length)
    {
        var audio = new float[length];
        double low = 0, level = 0.5;
        for (var i = 0; i < length; i++)
        {
            var white = (random.NextDouble() * 2) - 1;
            low = (0.7 * low) + (0.3 * white);
            level = Math.Clamp(level + ((random.NextDouble() - 0.5) * 0.002), 0.1, 1);
            audio[i] = (float)((white - low) * level);
        }

        return audio;
    }

    private static float[] Hum(Random random, int length)
    {
        var audio = new float[length];
        var mains = random.Next(2) == 0 ? 50.0 : 60.0;
        for (var i = 0; i < length; i++)
        {
            var t = i / 16000.0;
            audio[i] = (float)((Math.Sin(2 * Math.PI * mains * t) * 0.5) + (Math.Sin(2 * Math.PI * mains * 2 * t) * 0.3) + (Math.Sin(2 * Math.PI * mains * 3 * t) * 0.1)
                + (((random.NextDouble() * 2) - 1) * 0.2));
        }

        return audio;
    }

    private static float[] Melody(Random random, int length)
    {
        var audio = new float[length];
        var note = 0;
        while (note < length)
        {
            var frequency = 220 * Math.Pow(2, random.Next(24) / 12.0);
            var duration = 1600 + random.Next(6400);
            for (var i = 0; i < duration && note + i < length; i++)
            {
                var t = i / 16000.0;
                var envelope = Math.Min(1, i / 160.0) * Math.Exp(-t * 2);
                audio[note + i] = (float)(envelope * (Math.Sin(2 * Math.PI * frequency * t) + (0.5 * Math.Sin(4 * Math.PI * frequency * t)) + (0.25 * Math.Sin(6 * Math.PI * frequency * t))));
            }

            note += duration;
        }

        return audio;
    }

    private static float[] Normalise(float[] audio, float rms)
    {
        var current = MathF.Sqrt(TensorPrimitives.SumOfSquares(audio) / audio.Length) + 1e-9f;
        TensorPrimitives.Multiply(audio, rms / current, audio);
        return audio;
    }

    /// <summary>A varied copy of any audio (speed, room, noise, gain), for the negative speech bank.</summary>
    internal static float[] Vary(float[] audio, Random random) => Augment(audio, audio.Length, random, NoiseBank(random, []), plain: false).Audio;

    /// <summary>
    /// A varied copy: speed 0.88–1.12 (resampled, so pitch moves with it), a small room (a direct
    /// path and decaying reflections), background noise at 0–30 dB SNR and a gain of −18 to +3 dB.
    /// The first copy of a clip stays plain. Returns the audio and where the marked sample moved to.
    /// </summary>
    private static (float[] Audio, int Mark) Augment(float[] input, int mark, Random random, List<float[]> noises, bool plain)
    {
        var lead = 4000 + random.Next(8000);
        var speed = plain ? 1.0 : 0.88 + (random.NextDouble() * 0.24);
        var length = (int)(input.Length / speed);
        var audio = new float[lead + length + 4000];
        for (var i = 0; i < length; i++)
        {
            var position = i * speed;
            var index = (int)position;
            var fraction = (float)(position - index);
            var next = Math.Min(index + 1, input.Length - 1);
            audio[lead + i] = (input[index] * (1 - fraction)) + (input[next] * fraction);
        }

        if (!plain && random.NextDouble() < 0.6)
        {
            audio = Reverberate(audio, random);
        }

        var speechRms = MathF.Sqrt(TensorPrimitives.SumOfSquares(audio) / Math.Max(1, length)) + 1e-9f;
        var noise = noises[random.Next(noises.Count)];
        var snr = plain ? 40 : random.NextDouble() * 30;
        var noiseRms = MathF.Sqrt(TensorPrimitives.SumOfSquares(noise) / noise.Length) + 1e-9f;
        var noiseGain = speechRms / noiseRms / (float)Math.Pow(10, snr / 20);
        var offset = random.Next(noise.Length);
        var gain = plain ? 1f : (float)Math.Pow(10, (-18 + (random.NextDouble() * 21)) / 20);
        for (var i = 0; i < audio.Length; i++)
        {
            audio[i] = Math.Clamp((audio[i] + (noise[(offset + i) % noise.Length] * noiseGain)) * gain, -1f, 1f);
        }

        return (audio, lead + (int)(mark / speed));
    }

    /// <summary>A sparse synthetic room response: the direct sound and 60 reflections decaying over an RT60 of 0.2–0.8 s.</summary>
    private static float[] Reverberate(float[] audio, Random random)
    {
        var rt60 = 0.2 + (random.NextDouble() * 0.6);
        var taps = new List<(int Delay, float Gain)> { (0, 1f) };
        for (var t = 0; t < 60; t++)
        {
            var delay = 40 + random.Next((int)(rt60 * 16000));
            var decay = Math.Pow(10, -3.0 * delay / (rt60 * 16000));
            taps.Add((delay, (float)(decay * ((random.NextDouble() * 2) - 1) * 0.5)));
        }

        var output = new float[audio.Length];
        foreach (var (delay, gain) in taps)
        {
            for (var i = delay; i < audio.Length; i++)
            {
                output[i] += audio[i - delay] * gain;
            }
        }

        return output;
    }

    /// <summary>One hidden ReLU layer and a logistic output, Adam on class-balanced weighted log loss with L2.</summary>
    private EnrolledWakeModel Fit(string phrase, List<float[]> positives, List<float[]> negatives, Random random, double threshold, CancellationToken cancellationToken)
    {
        var size = WakeFeatureModels.WindowSize;
        var all = positives.Select(p => (X: p, Y: 1f)).Concat(negatives.Select(n => (X: n, Y: 0f))).ToArray();
        var mean = new float[size];
        var scale = new float[size];
        foreach (var (x, _) in all)
        {
            TensorPrimitives.Add(mean, x, mean);
        }

        TensorPrimitives.Divide(mean, all.Length, mean);
        foreach (var (x, _) in all)
        {
            for (var i = 0; i < size; i++)
            {
                var d = x[i] - mean[i];
                scale[i] += d * d;
            }
        }

        for (var i = 0; i < size; i++)
        {
            scale[i] = 1f / MathF.Sqrt((scale[i] / all.Length) + 1e-4f);
        }

        var inputs = all.Select(e => { var z = new float[size]; for (var i = 0; i < size; i++) { z[i] = (e.X[i] - mean[i]) * scale[i]; } return z; }).ToArray();
        var labels = all.Select(e => e.Y).ToArray();
        var positiveWeight = (float)negatives.Count / Math.Max(1, positives.Count);

        var hidden = HiddenUnits;
        var w1 = new float[hidden * size];
        var b1 = new float[hidden];
        var w2 = new float[hidden];
        var b2 = new float[1];
        var init = MathF.Sqrt(2f / size);
        for (var i = 0; i < w1.Length; i++)
        {
            w1[i] = (float)(Gaussian(random) * init);
        }

        for (var h = 0; h < hidden; h++)
        {
            w2[h] = (float)(Gaussian(random) * MathF.Sqrt(1f / hidden));
        }

        var parameters = new[] { w1, b1, w2, b2 };
        var gradients = parameters.Select(p => new float[p.Length]).ToArray();
        var moment1 = parameters.Select(p => new float[p.Length]).ToArray();
        var moment2 = parameters.Select(p => new float[p.Length]).ToArray();
        const float learningRate = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, l2 = 1e-3f;
        const int batch = 64;
        var order = Enumerable.Range(0, inputs.Length).ToArray();
        var activation = new float[hidden];
        var step = 0;
        for (var epoch = 0; epoch < Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            random.Shuffle(order);
            for (var from = 0; from < order.Length; from += batch)
            {
                foreach (var g in gradients)
                {
                    Array.Clear(g);
                }

                var count = Math.Min(batch, order.Length - from);
                var totalWeight = 0f;
                for (var k = 0; k < count; k++)
                {
                    var n = order[from + k];
                    var x = inputs[n];
                    var logit = b2[0];
                    for (var h = 0; h < hidden; h++)
                    {
                        activation[h] = Math.Max(0, b1[h] + TensorPrimitives.Dot(w1.AsSpan(h * size, size), x));
                        logit += w2[h] * activation[h];
                    }

                    var weight = labels[n] > 0.5f ? positiveWeight : 1f;
                    totalWeight += weight;
                    var error = weight * ((1f / (1f + MathF.Exp(-logit))) - labels[n]);
                    gradients[3][0] += error;
                    for (var h = 0; h < hidden; h++)
                    {
                        gradients[2][h] += error * activation[h];
                        if (activation[h] > 0)
                        {
                            var back = error * w2[h];
                            gradients[1][h] += back;
                            TensorPrimitives.MultiplyAdd(x, back, gradients[0].AsSpan(h * size, size), gradients[0].AsSpan(h * size, size));
                        }
                    }
                }

                step++;
                var correction1 = 1 - MathF.Pow(beta1, step);
                var correction2 = 1 - MathF.Pow(beta2, step);
                for (var p = 0; p < parameters.Length; p++)
                {
                    var parameter = parameters[p];
                    var gradient = gradients[p];
                    var decay = p % 2 == 0 ? l2 : 0f; // weights, not biases
                    for (var i = 0; i < parameter.Length; i++)
                    {
                        var g = (gradient[i] / totalWeight) + (decay * parameter[i]);
                        moment1[p][i] = (beta1 * moment1[p][i]) + ((1 - beta1) * g);
                        moment2[p][i] = (beta2 * moment2[p][i]) + ((1 - beta2) * g * g);
                        parameter[i] -= learningRate * (moment1[p][i] / correction1) / (MathF.Sqrt(moment2[p][i] / correction2) + 1e-8f);
                    }
                }
            }
        }

        return new EnrolledWakeModel(phrase, mean, scale, w1, b1, w2, b2[0], threshold);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

/// <summary>The whole enrollment: recordings and espeak-ng renderings of the phrase against speech that is not it.</summary>
public static class WakeEnrollment
{
    /// <param name="pocketsphinxModelDirectory">Its dictionary gives the words that sound like the phrase's.</param>
    public static EnrolledWakeModel Train(WakeFeatureModels features, string phrase, IReadOnlyList<EnrollmentClip> recordings, int renderings, string pocketsphinxModelDirectory, Action<string>? progress = null, int seed = 7, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        var random = new Random(seed);
        var synthetic = renderings > 0 ? WakeSpeech.Phrase(phrase, renderings, random, cancellationToken) : [];
        var negatives = WakeSpeech.NotThePhrase(phrase, Path.Combine(pocketsphinxModelDirectory, "cmudict-en-us.dict"), voicesPerText: 3, random, cancellationToken);
        progress?.Invoke($"{recordings.Count} recordings, {synthetic.Count} renderings of \"{phrase}\", {negatives.Count} other utterances");
        return new WakeTrainer(features) { Progress = progress, Seed = seed, Bank = NegativeSpeechBank.LoadDefault() }.Train(phrase, recordings, synthetic, negatives, cancellationToken);
    }
}
