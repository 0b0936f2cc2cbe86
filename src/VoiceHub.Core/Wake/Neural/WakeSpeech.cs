using System.Diagnostics;
using VoiceHub.Core.Audio;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>
/// Speech made with espeak-ng for wake training: the phrase in many voices (a verifier for any
/// phrase without recordings), and speech that is not the phrase (everyday sentences and words
/// that sound like the phrase's words), so the verifier learns what to refuse.
/// </summary>
public static class WakeSpeech
{
    // espeak-ng's English accents and voice variants (all in Debian's espeak-ng-data).
    private static readonly string[] s_accents = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"];
    private static readonly string[] s_variants = ["", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3", "+f4", "+f5", "+klatt", "+klatt2", "+klatt3", "+croak", "+Alex", "+Andy", "+Annie", "+david", "+ed", "+linda", "+steph", "+travis", "+zac"];

    // Everyday speech in a home: what people say near the appliance that must not wake it.
    private static readonly string[] s_sentences =
    [
        "what time is it", "turn on the kitchen light", "can you pass me the salt please", "i will be home late tonight",
        "the weather looks nice today", "did you feed the cat", "let's order a pizza", "where are my keys",
        "put the kettle on", "i need a coffee", "how was your day at school", "the meeting starts at nine",
        "call your mother back", "we are out of milk", "turn the music down a little", "open the window it is hot",
        "the game starts in ten minutes", "have you seen my phone", "that movie was great", "let me check my calendar",
        "dinner is ready", "can you help me with this", "the package arrived this morning", "i think it might rain later",
        "set a timer for five minutes", "who left the door open", "my computer is slow today", "the printer is out of paper",
        "good morning everyone", "see you tomorrow", "please close the garage", "is the oven still on",
        "i am going for a walk", "the kids are asleep", "what should we cook tonight", "the bus is late again",
        "thank you very much", "could you say that again", "i forgot my password", "we should paint this room",
        "the dog needs a walk", "remind me to buy bread", "how much does it cost", "that sounds like a plan",
        "the water is boiling", "turn off all the lights", "play some jazz", "what is on the news",
    ];

    /// <summary>16 kHz audio of espeak-ng saying <paramref name="text"/>, or null when espeak-ng fails or is missing.</summary>
    public static float[]? Render(string text, string voice, int wordsPerMinute, int pitch)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("espeak-ng", ["--stdout", "-v", voice, "-s", $"{wordsPerMinute}", "-p", $"{pitch}", text])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            using var wav = new MemoryStream();
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.BaseStream.CopyTo(wav);
            process.WaitForExit();
            _ = error.GetAwaiter().GetResult();
            if (process.ExitCode != 0 || wav.Length < 100)
            {
                return null;
            }

            wav.Position = 0;
            return AudioFile.ReadMono16k("espeak-ng output", wav);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary>A voice at random: accent, variant, speaking rate and pitch.</summary>
    private static (string Voice, int Rate, int Pitch) AnyVoice(Random random) =>
        (s_accents[random.Next(s_accents.Length)] + s_variants[random.Next(s_variants.Length)], 110 + random.Next(90), 25 + random.Next(50));

    /// <summary>The phrase said <paramref name="count"/> times in varied voices (a clip each, with a quiet moment around it).</summary>
    public static List<EnrollmentClip> Phrase(string phrase, int count, Random random, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(random);
        var clips = new List<EnrollmentClip>();
        for (var i = 0; i < count * 2 && clips.Count < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (voice, rate, pitch) = AnyVoice(random);
            if (Render(phrase, voice, rate, pitch) is { Length: > 1600 } audio)
            {
                var padded = new float[audio.Length + 8000];
                audio.CopyTo(padded, 4000);
                clips.Add(new EnrollmentClip($"espeak-ng {voice} {rate} wpm", padded));
            }
        }

        return clips.Count > 0 ? clips : throw new WakeEnrollmentException($"espeak-ng cannot say \"{phrase}\" (is espeak-ng installed?)");
    }

    /// <summary>
    /// Speech that is not the phrase: the everyday sentences and, when a pronunciation dictionary is
    /// given, words one or two phones away from the phrase's words ("commuter" for "computer"), in varied voices.
    /// </summary>
    public static List<float[]> NotThePhrase(string phrase, string? dictionary, int voicesPerText, Random random, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(random);
        var texts = s_sentences.Where(s => !s.Contains(phrase, StringComparison.OrdinalIgnoreCase)).ToList();
        if (dictionary is not null && File.Exists(dictionary))
        {
            var near = SoundAlikes(phrase, dictionary, 24);
            texts.AddRange(near.Chunk(3).Select(words => string.Join(", ", words)));
        }

        var audio = new List<float[]>();
        foreach (var text in texts)
        {
            for (var v = 0; v < voicesPerText; v++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (voice, rate, pitch) = AnyVoice(random);
                if (Render(text, voice, rate, pitch) is { Length: > 1600 } speech)
                {
                    audio.Add(speech);
                }
            }
        }

        return audio;
    }

    /// <summary>Dictionary words whose phones are one or two edits from a word of the phrase (not the word itself, nor words that contain it).</summary>
    public static List<string> SoundAlikes(string phrase, string dictionary, int count)
    {
        ArgumentNullException.ThrowIfNull(phrase);
        var entries = File.ReadLines(dictionary)
            .Select(l => l.Split(' ', 2))
            .Where(p => p.Length == 2 && !p[0].Contains('(', StringComparison.Ordinal) && p[0].All(c => char.IsAsciiLetterLower(c)))
            .Select(p => (Word: p[0], Phones: p[1].Split(' ')))
            .ToList();
        var words = WakePhraseText.Normalize(phrase).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var found = new List<(string Word, int Distance)>();
        foreach (var target in entries.Where(e => words.Contains(e.Word)).Select(e => e.Phones).Where(p => p.Length >= 3))
        {
            var key = string.Join(' ', target);
            found.AddRange(entries
                .Where(e => !words.Contains(e.Word) && Math.Abs(e.Phones.Length - target.Length) <= 2 && !string.Join(' ', e.Phones).Contains(key, StringComparison.Ordinal))
                .Select(e => (e.Word, Distance: EditDistance(e.Phones, target)))
                .Where(e => e.Distance is >= 1 and <= 2));
        }

        return [.. found.OrderBy(f => f.Distance).ThenBy(f => f.Word, StringComparer.Ordinal).Select(f => f.Word).Distinct().Take(count)];
    }

    private static int EditDistance(string[] a, string[] b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
