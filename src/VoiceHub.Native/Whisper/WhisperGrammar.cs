using System.Runtime.InteropServices;
using VoiceHub.Native.Grammar;
using static VoiceHub.Native.Interop.Whisper;

namespace VoiceHub.Native.Whisper;

/// <summary>
/// A GBNF grammar compiled to the rule arrays whisper.cpp's grammar-guided decoding reads
/// (<c>whisper_grammar_element**</c>), in native memory owned by this object.
/// </summary>
public sealed unsafe class WhisperGrammar : IDisposable
{
    private whisper_grammar_element** _rules;
    private readonly int _ruleCount;

    public WhisperGrammar(GbnfGrammar grammar, float penalty = 100f)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        Source = grammar;
        Penalty = penalty;
        _ruleCount = grammar.Rules.Count;
        _rules = (whisper_grammar_element**)NativeMemory.AllocZeroed((nuint)_ruleCount, (nuint)sizeof(nint));
        for (var r = 0; r < _ruleCount; r++)
        {
            var elements = Compile(grammar.Rules[r]);
            var block = (whisper_grammar_element*)NativeMemory.Alloc((nuint)elements.Count, (nuint)sizeof(whisper_grammar_element));
            for (var i = 0; i < elements.Count; i++)
            {
                block[i] = elements[i];
            }

            _rules[r] = block;
        }
    }

    public GbnfGrammar Source { get; }

    /// <summary>Logit penalty for tokens the grammar does not allow (whisper.cpp's grammar_penalty).</summary>
    public float Penalty { get; }

    internal whisper_grammar_element** Rules => _rules;

    internal int RuleCount => _ruleCount;

    internal int StartRule => Source.RootIndex;

    /// <summary>The element encoding of one rule: alternatives separated by ALT, closed by END.</summary>
    internal static List<whisper_grammar_element> Compile(IReadOnlyList<IReadOnlyList<GbnfItem>> alternatives)
    {
        var elements = new List<whisper_grammar_element>();
        for (var a = 0; a < alternatives.Count; a++)
        {
            if (a > 0)
            {
                elements.Add(new() { type = whisper_gretype.WHISPER_GRETYPE_ALT });
            }

            foreach (var item in alternatives[a])
            {
                if (item.RuleReference is { } reference)
                {
                    elements.Add(new() { type = whisper_gretype.WHISPER_GRETYPE_RULE_REF, value = (uint)reference });
                    continue;
                }

                if (item.IsAnyCharacter)
                {
                    throw new GbnfException("whisper.cpp grammars have no '.' (any character); use a character class");
                }

                for (var i = 0; i < item.Ranges.Count; i++)
                {
                    var (low, high) = item.Ranges[i];
                    var type = i > 0 ? whisper_gretype.WHISPER_GRETYPE_CHAR_ALT
                        : item.Negated ? whisper_gretype.WHISPER_GRETYPE_CHAR_NOT : whisper_gretype.WHISPER_GRETYPE_CHAR;
                    elements.Add(new() { type = type, value = (uint)low });
                    if (high != low)
                    {
                        elements.Add(new() { type = whisper_gretype.WHISPER_GRETYPE_CHAR_RNG_UPPER, value = (uint)high });
                    }
                }
            }
        }

        elements.Add(new() { type = whisper_gretype.WHISPER_GRETYPE_END });
        return elements;
    }

    public void Dispose()
    {
        if (_rules is null)
        {
            return;
        }

        for (var r = 0; r < _ruleCount; r++)
        {
            NativeMemory.Free(_rules[r]);
        }

        NativeMemory.Free(_rules);
        _rules = null;
    }
}
