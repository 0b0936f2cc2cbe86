using System.Globalization;

namespace VoiceHub.Native.Grammar;

/// <summary>
/// Recursive-descent parser for GBNF as llama.cpp reads it: rules <c>name ::= alternatives</c>,
/// string literals, character classes, <c>.</c>, groups, <c>* + ?</c> and <c>{m,n}</c> repetition,
/// and <c>#</c> comments. Repetitions become generated rules, as in llama.cpp's grammar parser.
/// </summary>
internal sealed class GbnfParser(string text)
{
    private const int MaxRepetitions = 1000;
    private int _position;

    public List<List<List<GbnfItem>>?> Rules { get; } = [];

    public List<string> Names { get; } = [];

    public Dictionary<string, int> RuleIndex { get; } = new(StringComparer.Ordinal);

    public void ParseAll()
    {
        SkipSpace(newlines: true);
        while (_position < text.Length)
        {
            var name = ParseName();
            SkipSpace(newlines: false);
            Expect("::=");
            SkipSpace(newlines: true);
            var index = RuleFor(name);
            if (Rules[index] is not null)
            {
                throw Error($"rule '{name}' is defined twice");
            }

            Rules[index] = ParseAlternatives(name, nested: false);
            if (_position < text.Length && text[_position] is not ('\n' or '\r'))
            {
                throw Error($"unexpected '{text[_position]}'");
            }

            SkipSpace(newlines: true);
        }

        if (Rules.Count == 0)
        {
            throw new GbnfException("grammar is empty");
        }
    }

    private List<List<GbnfItem>> ParseAlternatives(string ruleName, bool nested)
    {
        var alternatives = new List<List<GbnfItem>> { ParseSequence(ruleName, nested) };
        while (_position < text.Length && text[_position] == '|')
        {
            _position++;
            SkipSpace(newlines: true);
            alternatives.Add(ParseSequence(ruleName, nested));
        }

        return alternatives;
    }

    private List<GbnfItem> ParseSequence(string ruleName, bool nested)
    {
        var sequence = new List<GbnfItem>();
        var lastStart = -1;
        while (_position < text.Length)
        {
            var c = text[_position];
            if (c == '"')
            {
                lastStart = sequence.Count;
                _position++;
                while (_position < text.Length && text[_position] != '"')
                {
                    sequence.Add(GbnfItem.Character(ParseCharacter()));
                }

                Expect("\"");
            }
            else if (c == '[')
            {
                lastStart = sequence.Count;
                sequence.Add(ParseClass());
            }
            else if (c == '.')
            {
                lastStart = sequence.Count;
                _position++;
                sequence.Add(GbnfItem.Any());
            }
            else if (c == '(')
            {
                _position++;
                SkipSpace(newlines: true);
                var group = ParseAlternatives(ruleName, nested: true);
                Expect(")");
                lastStart = sequence.Count;
                sequence.Add(GbnfItem.Reference(NewRule(ruleName, group)));
            }
            else if (IsNameCharacter(c))
            {
                lastStart = sequence.Count;
                sequence.Add(GbnfItem.Reference(RuleFor(ParseName())));
            }
            else if (c is '*' or '+' or '?' or '{')
            {
                if (lastStart < 0)
                {
                    throw Error($"'{c}' has nothing to repeat");
                }

                var (min, max) = ParseRepetition();
                var repeated = sequence.GetRange(lastStart, sequence.Count - lastStart);
                sequence.RemoveRange(lastStart, sequence.Count - lastStart);
                sequence.AddRange(Repeat(ruleName, repeated, min, max));
                lastStart = -1;
            }
            else
            {
                break;
            }

            SkipSpace(newlines: nested);
        }

        return sequence;
    }

    private (int Min, int? Max) ParseRepetition()
    {
        var c = text[_position++];
        switch (c)
        {
            case '*': return (0, null);
            case '+': return (1, null);
            case '?': return (0, 1);
        }

        SkipSpace(newlines: false);
        var min = ParseInteger();
        int? max = min;
        SkipSpace(newlines: false);
        if (_position < text.Length && text[_position] == ',')
        {
            _position++;
            SkipSpace(newlines: false);
            max = _position < text.Length && char.IsAsciiDigit(text[_position]) ? ParseInteger() : null;
            SkipSpace(newlines: false);
        }

        Expect("}");
        if (max < min)
        {
            throw Error($"repetition {{{min},{max}}} has max below min");
        }

        return (min, max);
    }

    private List<GbnfItem> Repeat(string ruleName, List<GbnfItem> items, int min, int? max)
    {
        var result = new List<GbnfItem>();
        for (var i = 0; i < min; i++)
        {
            result.AddRange(items);
        }

        if (max is null)
        {
            // tail ::= items tail | ""
            var tail = RuleFor($"{ruleName}-{Names.Count}");
            Rules[tail] = [[.. items, GbnfItem.Reference(tail)], []];
            result.Add(GbnfItem.Reference(tail));
        }
        else
        {
            // optional chain: opt_k ::= items opt_{k-1} | "" for the max - min optional copies
            int? next = null;
            for (var i = 0; i < max.Value - min; i++)
            {
                List<GbnfItem> body = [.. items];
                if (next is { } inner)
                {
                    body.Add(GbnfItem.Reference(inner));
                }

                next = NewRule(ruleName, [body, []]);
            }

            if (next is { } outer)
            {
                result.Add(GbnfItem.Reference(outer));
            }
        }

        return result;
    }

    private GbnfItem ParseClass()
    {
        _position++; // [
        var negated = false;
        if (_position < text.Length && text[_position] == '^')
        {
            negated = true;
            _position++;
        }

        var ranges = new List<(int, int)>();
        while (_position < text.Length && text[_position] != ']')
        {
            var low = ParseCharacter();
            var high = low;
            if (_position + 1 < text.Length && text[_position] == '-' && text[_position + 1] != ']')
            {
                _position++;
                high = ParseCharacter();
                if (high < low)
                {
                    throw Error("character range is reversed");
                }
            }

            ranges.Add((low, high));
        }

        Expect("]");
        return GbnfItem.Class(ranges, negated);
    }

    private int ParseCharacter()
    {
        if (_position >= text.Length)
        {
            throw Error("unexpected end of grammar inside a literal");
        }

        var c = text[_position];
        if (c != '\\')
        {
            if (char.IsHighSurrogate(c) && _position + 1 < text.Length)
            {
                _position += 2;
                return char.ConvertToUtf32(c, text[_position - 1]);
            }

            if (c is '\n' or '\r')
            {
                throw Error("unterminated literal");
            }

            _position++;
            return c;
        }

        if (_position + 1 >= text.Length)
        {
            throw Error("dangling escape");
        }

        var escape = text[_position + 1];
        _position += 2;
        return escape switch
        {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'x' => ParseHex(2),
            'u' => ParseHex(4),
            'U' => ParseHex(8),
            '\\' or '"' or '[' or ']' or '-' or '^' => escape,
            _ => throw Error($"unknown escape '\\{escape}'"),
        };
    }

    private int ParseHex(int digits)
    {
        if (_position + digits > text.Length || !int.TryParse(text.AsSpan(_position, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value))
        {
            throw Error($"expected {digits} hex digits");
        }

        _position += digits;
        return value;
    }

    private int ParseInteger()
    {
        var start = _position;
        while (_position < text.Length && char.IsAsciiDigit(text[_position]))
        {
            _position++;
        }

        if (start == _position || !int.TryParse(text.AsSpan(start, _position - start), CultureInfo.InvariantCulture, out var value) || value > MaxRepetitions)
        {
            throw Error($"expected a repetition count up to {MaxRepetitions}");
        }

        return value;
    }

    private string ParseName()
    {
        var start = _position;
        while (_position < text.Length && IsNameCharacter(text[_position]))
        {
            _position++;
        }

        if (start == _position)
        {
            throw Error("expected a rule name");
        }

        return text[start.._position];
    }

    private static bool IsNameCharacter(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    private int RuleFor(string name)
    {
        if (!RuleIndex.TryGetValue(name, out var index))
        {
            index = Rules.Count;
            Rules.Add(null);
            Names.Add(name);
            RuleIndex[name] = index;
        }

        return index;
    }

    private int NewRule(string baseName, List<List<GbnfItem>> alternatives)
    {
        var index = RuleFor($"{baseName}-{Names.Count}");
        Rules[index] = alternatives;
        return index;
    }

    private void SkipSpace(bool newlines)
    {
        while (_position < text.Length)
        {
            var c = text[_position];
            if (c == '#')
            {
                while (_position < text.Length && text[_position] != '\n')
                {
                    _position++;
                }
            }
            else if (c is ' ' or '\t' || (newlines && c is '\n' or '\r'))
            {
                _position++;
            }
            else
            {
                return;
            }
        }
    }

    private void Expect(string token)
    {
        if (string.CompareOrdinal(text, _position, token, 0, token.Length) != 0)
        {
            throw Error($"expected '{token}'");
        }

        _position += token.Length;
    }

    private GbnfException Error(string problem)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < _position && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }

        return new GbnfException($"grammar line {line}, column {column}: {problem}");
    }
}
