using System.Diagnostics;
using System.Text;

namespace VoiceHub.Core.Speech;

/// <summary>
/// Pronunciations for words the recognizer's dictionary lacks ("zigbee", "voicehub"), from
/// espeak-ng's IPA transcription mapped onto the CMU phone set of the pocketsphinx model.
/// </summary>
public static class EspeakPronouncer
{
    // Longest symbols first: diphthongs and affricates before their parts.
    private static readonly (string Ipa, string Phones)[] s_map =
    [
        ("aɪ", "AY"), ("aʊ", "AW"), ("ɔɪ", "OY"), ("eɪ", "EY"), ("oʊ", "OW"), ("əʊ", "OW"), ("tʃ", "CH"), ("dʒ", "JH"),
        ("ɑːɹ", "AA R"), ("ɔːɹ", "AO R"), ("ɛɹ", "EH R"), ("ɪɹ", "IH R"), ("ʊɹ", "UH R"), ("ɜː", "ER"), ("ɝ", "ER"), ("ɚ", "ER"),
        ("iː", "IY"), ("uː", "UW"), ("ɑː", "AA"), ("ɔː", "AO"), ("i", "IY"), ("ɪ", "IH"), ("ᵻ", "IH"), ("e", "EH"), ("ɛ", "EH"),
        ("æ", "AE"), ("a", "AE"), ("ɑ", "AA"), ("ɒ", "AA"), ("ɔ", "AO"), ("o", "OW"), ("ʊ", "UH"), ("u", "UW"), ("ʌ", "AH"),
        ("ə", "AH"), ("ɐ", "AH"), ("p", "P"), ("b", "B"), ("t", "T"), ("d", "D"), ("ɾ", "T"), ("k", "K"), ("ɡ", "G"), ("g", "G"),
        ("f", "F"), ("v", "V"), ("θ", "TH"), ("ð", "DH"), ("s", "S"), ("z", "Z"), ("ʃ", "SH"), ("ʒ", "ZH"), ("h", "HH"),
        ("m", "M"), ("n", "N"), ("ŋ", "NG"), ("l", "L"), ("ɫ", "L"), ("ɹ", "R"), ("r", "R"), ("w", "W"), ("j", "Y"),
    ];

    /// <summary>CMU phones for a word ("Z IH G B IY"), or null when espeak-ng is missing or gives nothing usable.</summary>
    public static string? Pronounce(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return Ipa(["-q", "--ipa", "-v", "en-us", word], stdin: null) is { } ipa ? FromIpa(ipa) : null;
    }

    /// <summary>
    /// CMU phones for many words from one espeak-ng process (a new home of thousands of names must not
    /// start thousands of processes): one word a line in, one transcription a line out. A word whose
    /// line cannot be told apart (espeak-ng split or merged lines) is asked alone.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> PronounceAll(IReadOnlyCollection<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        var list = words.Where(w => w.Length > 0 && !w.Any(char.IsControl)).Distinct(StringComparer.Ordinal).ToList();
        if (list.Count == 0)
        {
            return result;
        }

        // "word." ends a clause, so espeak-ng answers each on a line of its own.
        var lines = Ipa(["-q", "--ipa", "-v", "en-us"], string.Concat(list.Select(w => w + ".\n")))?
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines is not null && lines.Length == list.Count)
        {
            for (var i = 0; i < list.Count; i++)
            {
                result[list[i]] = FromIpa(lines[i]);
            }

            return result;
        }

        foreach (var word in list)
        {
            result[word] = lines is null ? null : Pronounce(word);
        }

        return result;
    }

    /// <summary>espeak-ng's IPA output, or null when espeak-ng is missing or fails.</summary>
    private static string? Ipa(string[] arguments, string? stdin)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("espeak-ng", arguments)
            {
                RedirectStandardInput = stdin is not null,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardInputEncoding = stdin is null ? null : new UTF8Encoding(false),
            })!;
            var error = process.StandardError.ReadToEndAsync();
            // Written on another task: espeak-ng's output would fill its pipe while we still write.
            var writer = stdin is null ? Task.CompletedTask : Task.Run(() =>
            {
                process.StandardInput.Write(stdin);
                process.StandardInput.Close();
            });
            var output = process.StandardOutput.ReadToEnd();
            writer.GetAwaiter().GetResult();
            process.WaitForExit();
            _ = error.GetAwaiter().GetResult();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // espeak-ng is not installed
        }
    }

    /// <summary>Maps an IPA transcription (stress and length marks ignored) to CMU phones.</summary>
    public static string? FromIpa(string ipa)
    {
        ArgumentNullException.ThrowIfNull(ipa);
        var text = ipa.Replace("ˈ", string.Empty, StringComparison.Ordinal).Replace("ˌ", string.Empty, StringComparison.Ordinal)
            .Replace("\u0361", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal).Trim();
        var phones = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]) || text[i] == 'ː' || text[i] == 'ʔ')
            {
                i++;
                continue;
            }

            var matched = false;
            foreach (var (symbol, cmu) in s_map)
            {
                if (string.CompareOrdinal(text, i, symbol, 0, symbol.Length) == 0)
                {
                    phones.Add(cmu);
                    i += symbol.Length;
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                return null; // a sound with no English phone: better no pronunciation than a wrong one
            }
        }

        return phones.Count > 0 ? string.Join(' ', phones) : null;
    }
}
