using System.Globalization;
using System.Text;

namespace VoiceHub.Core.Intents.Templates;

/// <summary>
/// Turns spoken or typed text into the word tokens templates match against: case and punctuation
/// are dropped, "%" and "°" become words, hyphens and slashes split words, symbols such as emoji
/// disappear, and apostrophes inside words stay ("what's").
/// </summary>
public static class TextNormalizer
{
    public static string[] Tokenize(string text) => Tokenize(text, keepCase: false);

    /// <summary>The same tokens, with their case kept when asked (what a wildcard slot captures: "play The Office").</summary>
    public static string[] Tokenize(string text, bool keepCase)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length + 8);
        var decomposed = text.Normalize(NormalizationForm.FormKC);
        for (var i = 0; i < decomposed.Length; i++)
        {
            var c = decomposed[i];
            switch (c)
            {
                case '%':
                    builder.Append(" percent ");
                    continue;
                case '°':
                    builder.Append(" degrees ");
                    if (i + 1 < decomposed.Length && decomposed[i + 1] is 'C' or 'F' or 'c' or 'f' && (i + 2 >= decomposed.Length || !char.IsLetter(decomposed[i + 2])))
                    {
                        i++; // "21°C": the unit letter belongs to the degree sign
                    }

                    continue;
                case '&':
                    builder.Append(" and ");
                    continue;
                case '\'' or '\u2019':
                    // Keep apostrophes inside words ("what's"), drop quotes around them.
                    if (i > 0 && i + 1 < decomposed.Length && char.IsLetter(decomposed[i - 1]) && char.IsLetter(decomposed[i + 1]))
                    {
                        builder.Append('\'');
                    }
                    else
                    {
                        builder.Append(' ');
                    }

                    continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                builder.Append(keepCase ? c : char.ToLowerInvariant(c));
            }
            else if (c == '.' && i > 0 && i + 1 < decomposed.Length && char.IsDigit(decomposed[i - 1]) && char.IsDigit(decomposed[i + 1]))
            {
                builder.Append('.'); // 21.5 degrees
            }
            else if (char.IsHighSurrogate(c) || char.IsLowSurrogate(c))
            {
                builder.Append(' '); // emoji and other astral symbols
            }
            else
            {
                builder.Append(' ');
            }
        }

        return builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    public static string Normalize(string text) => string.Join(' ', Tokenize(text));
}

/// <summary>Reads numbers spoken as words ("twenty one", "one hundred", "a half") or written as digits.</summary>
public static class NumberWords
{
    private static readonly string[] s_small =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    ];

    private static readonly string[] s_decades = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

    /// <summary>How a whole number from 0 to 9999 is said: 21 is "twenty one", 105 "one hundred five".</summary>
    public static string Spell(int number)
    {
        if (number is < 0 or > 9999)
        {
            throw new ArgumentOutOfRangeException(nameof(number), number, "only 0 to 9999 are spelled");
        }

        if (number < 20)
        {
            return s_small[number];
        }

        if (number < 100)
        {
            return number % 10 == 0 ? s_decades[number / 10] : $"{s_decades[number / 10]} {s_small[number % 10]}";
        }

        if (number < 1000)
        {
            return number % 100 == 0 ? $"{s_small[number / 100]} hundred" : $"{s_small[number / 100]} hundred {Spell(number % 100)}";
        }

        return number % 1000 == 0 ? $"{Spell(number / 1000)} thousand" : $"{Spell(number / 1000)} thousand {Spell(number % 1000)}";
    }

    private static readonly Dictionary<string, int> s_units = new(StringComparer.Ordinal)
    {
        ["zero"] = 0, ["oh"] = 0, ["one"] = 1, ["a"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6,
        ["seven"] = 7, ["eight"] = 8, ["nine"] = 9, ["ten"] = 10, ["eleven"] = 11, ["twelve"] = 12, ["thirteen"] = 13,
        ["fourteen"] = 14, ["fifteen"] = 15, ["sixteen"] = 16, ["seventeen"] = 17, ["eighteen"] = 18, ["nineteen"] = 19,
    };

    private static readonly Dictionary<string, int> s_tens = new(StringComparer.Ordinal)
    {
        ["twenty"] = 20, ["thirty"] = 30, ["forty"] = 40, ["fifty"] = 50, ["sixty"] = 60, ["seventy"] = 70, ["eighty"] = 80, ["ninety"] = 90,
    };

    /// <summary>"point five" after a whole number: one decimal place.</summary>
    private static IEnumerable<(double Value, int End)> Tenths(IReadOnlyList<string> tokens, int position, double whole)
    {
        if (position + 1 < tokens.Count && tokens[position] == "point" && s_units.TryGetValue(tokens[position + 1], out var digit) && digit < 10 && tokens[position + 1] != "a")
        {
            yield return (whole + digit / 10.0, position + 2);
        }
    }

    /// <summary>
    /// Every number that starts at <paramref name="start"/>, with the position after it: "twenty one"
    /// yields 20 (ending after "twenty") and 21 (after "one"), so the template decides how much to take.
    /// </summary>
    public static IEnumerable<(double Value, int End)> ReadAt(IReadOnlyList<string> tokens, int start)
    {
        if (start >= tokens.Count)
        {
            yield break;
        }

        var first = tokens[start];
        if (double.TryParse(first, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var digits) && char.IsDigit(first[0]))
        {
            yield return (digits, start + 1);
            yield break;
        }

        // [a|one] hundred [and] <0..99>, or <0..99>; "a" alone is not a number.
        var position = start;
        double hundreds = 0;
        if (position + 1 < tokens.Count && tokens[position + 1] == "hundred" && s_units.TryGetValue(tokens[position], out var h) && h is > 0 and < 10)
        {
            hundreds = h * 100;
            position += 2;
            yield return (hundreds, position);
            if (position < tokens.Count && tokens[position] == "and")
            {
                position++;
            }
        }
        else if (tokens[position] == "hundred")
        {
            yield break;
        }

        if (position >= tokens.Count)
        {
            yield break;
        }

        var word = tokens[position];
        if (s_tens.TryGetValue(word, out var tens))
        {
            yield return (hundreds + tens, position + 1);
            foreach (var tenth in Tenths(tokens, position + 1, hundreds + tens))
            {
                yield return tenth;
            }

            if (position + 1 < tokens.Count && s_units.TryGetValue(tokens[position + 1], out var unit) && unit is > 0 and < 10 && tokens[position + 1] != "a")
            {
                yield return (hundreds + tens + unit, position + 2);
                foreach (var tenth in Tenths(tokens, position + 2, hundreds + tens + unit))
                {
                    yield return tenth;
                }
            }
        }
        else if (s_units.TryGetValue(word, out var small) && word != "a" && word != "oh")
        {
            yield return (hundreds + small, position + 1);
            foreach (var tenth in Tenths(tokens, position + 1, hundreds + small))
            {
                yield return tenth;
            }
        }
        else if (word == "half" && hundreds == 0)
        {
            yield return (0.5, position + 1);
        }
    }
}
