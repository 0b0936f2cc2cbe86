using System.Globalization;
using System.Text.Json;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Intents;

namespace VoiceHub.Core.Speech;

/// <summary>One labelled utterance of a speech-to-intent test set.</summary>
public sealed record LabelledUtterance(string File, string Intent, IReadOnlyDictionary<string, string> Slots);

/// <summary>
/// The outcome of one utterance in one condition. <paramref name="Score"/> is the engine's
/// out-of-grammar score, when it gave one, and <paramref name="RightIfKept"/> whether the words
/// it heard were the right command, rejected or not: the order would be understood at any
/// rejection threshold up to the score.
/// </summary>
public sealed record SpeechOutcome(string File, string Condition, bool Accepted, string Heard, string? Intent, string Detail, double AudioSeconds, double ProcessingSeconds,
    double? Score = null, bool RightIfKept = false);

/// <summary>
/// The Picovoice speech-to-intent benchmark's protocol on a folder laid out like it (clean/*.wav,
/// labels.json, noise/kitchen.wav): each utterance clean and with the noise mixed in at a given
/// SNR (by whole-utterance energy); a command counts as accepted only when the intent and every
/// slot are right.
/// </summary>
public static class SpeechEvaluation
{
    public static readonly int[] BenchmarkSnrs = [6, 9, 12, 15, 18, 21, 24];

    public static IReadOnlyList<LabelledUtterance> LoadLabels(string dataset)
    {
        var labels = Path.Combine(dataset, "labels.json");
        if (!File.Exists(labels))
        {
            throw new FileNotFoundException($"{labels}: no labels.json in the dataset folder", labels);
        }

        using var json = JsonDocument.Parse(File.ReadAllText(labels));
        return [.. json.RootElement.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new LabelledUtterance(
            Path.Combine(dataset, "clean", p.Name),
            p.Value.GetProperty("intent").GetString()!,
            p.Value.GetProperty("slots").EnumerateObject().ToDictionary(s => s.Name, s => s.Value.GetString()!, StringComparer.Ordinal)))];
    }

    /// <summary>Speech with noise added so that speech energy over noise energy is <paramref name="snrDb"/>; the noise segment is chosen by <paramref name="seed"/>.</summary>
    public static float[] MixNoise(ReadOnlySpan<float> speech, ReadOnlySpan<float> noise, double snrDb, int seed) =>
        MixNoise(speech, noise, snrDb, seed, speech.Length);

    /// <summary>
    /// The same mix over <paramref name="length"/> samples: past the speech, the noise goes on at the
    /// level the speech set (a stream continues after an utterance). With a <paramref name="leadIn"/>,
    /// that many samples of the noise alone come first (what a front end hears before anyone speaks).
    /// </summary>
    public static float[] MixNoise(ReadOnlySpan<float> speech, ReadOnlySpan<float> noise, double snrDb, int seed, int length, int leadIn = 0)
    {
        var mixed = new float[Math.Max(length, speech.Length) + leadIn];
        var offset = noise.Length > speech.Length ? new Random(seed).Next(noise.Length - speech.Length) : 0;
        double speechEnergy = 0;
        double noiseEnergy = 0;
        for (var i = 0; i < speech.Length; i++)
        {
            var n = noise[(offset + i) % noise.Length];
            speechEnergy += speech[i] * (double)speech[i];
            noiseEnergy += n * (double)n;
        }

        var gain = noiseEnergy > 0 ? Math.Sqrt(speechEnergy / (noiseEnergy * Math.Pow(10, snrDb / 10))) : 0;
        for (var i = -leadIn; i < mixed.Length - leadIn; i++)
        {
            var n = noise[(((offset + i) % noise.Length) + noise.Length) % noise.Length];
            mixed[i + leadIn] = (float)Math.Clamp((i >= 0 && i < speech.Length ? speech[i] : 0) + (gain * n), -1.0, 1.0);
        }

        return mixed;
    }

    /// <summary>Whether a recognized command is the labelled one: same intent, and exactly the labelled slots with the same values.</summary>
    public static (bool Accepted, string Detail) Score(LabelledUtterance label, IntentResult result)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(result);
        if (result.Intent != label.Intent)
        {
            return (false, $"intent {result.Intent ?? "null"}");
        }

        var expected = label.Slots.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value), StringComparer.Ordinal);
        var actual = result.Slots.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value.ToString() ?? string.Empty), StringComparer.Ordinal);
        var wrong = expected.Where(kv => actual.GetValueOrDefault(kv.Key) != kv.Value).Select(kv => $"{kv.Key}={actual.GetValueOrDefault(kv.Key) ?? "-"} (want {kv.Value})")
            .Concat(actual.Keys.Except(expected.Keys).Select(k => $"{k}={actual[k]} (not said)")).ToList();
        return wrong.Count == 0 ? (true, "ok") : (false, string.Join(", ", wrong));
    }

    private static string Normalize(string value) => string.Join(' ', value.Trim().ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>A seed that is the same in every run (string hash codes are randomized per process).</summary>
    public static int Seed(string file, int snr)
    {
        var hash = 2166136261u;
        foreach (var c in Path.GetFileName(file) + "/" + snr.ToString(CultureInfo.InvariantCulture))
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash & 0x7fffffff);
    }

    public static string Condition(int? snr) => snr is null ? "clean" : $"{snr} dB";

    /// <summary>Reads the speech once; noisy versions are mixed from it.</summary>
    public static float[] Load(string file) => AudioFile.ReadMono16k(file);

    public static string Percent(int accepted, int total) =>
        total == 0 ? "-" : (100.0 * accepted / total).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}
