using VoiceHub.Native.Grammar;

namespace VoiceHub.Tests.Native;

public sealed class GbnfGrammarTests
{
    [Theory]
    [InlineData("turn on the kitchen light", true)]
    [InlineData("turn off the bedroom light", true)]
    [InlineData("turn on the garage light", false)]
    [InlineData("turn on the kitchen light please", false)]
    [InlineData("turn on the kitchen", false)]
    public void Matches_exactly_the_sentences_of_the_language(string text, bool expected)
    {
        var grammar = GbnfGrammar.Parse("""
            # a comment
            root ::= "turn " state " the " room " light"
            state ::= "on" | "off"
            room  ::= ("kitchen" | "bedroom")
            """);

        Assert.Equal(expected, grammar.Matches(text));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("turn o", true)]
    [InlineData("turn on the kitchen light", true)]
    [InlineData("turn on the garage", false)]
    [InlineData("turn on the kitchen light!", false)]
    public void MatchesPrefix_accepts_the_beginnings_of_sentences(string text, bool expected)
    {
        var grammar = GbnfGrammar.Parse("root ::= \"turn \" (\"on\" | \"off\") \" the \" room \" light\"\nroom ::= \"kitchen\" | \"bedroom\"");

        Assert.Equal(expected, grammar.MatchesPrefix(text));
    }

    [Theory]
    [InlineData("root ::= [0-9]+", "0123", true)]
    [InlineData("root ::= [0-9]+", "", false)]
    [InlineData("root ::= \"a\"* \"b\"", "aaab", true)]
    [InlineData("root ::= \"a\"? \"b\"", "aab", false)]
    [InlineData("root ::= [a-z]{2,3}", "abcd", false)]
    [InlineData("root ::= [a-z]{2,3}", "abc", true)]
    [InlineData("root ::= [a-z]{2,}", "abcdefgh", true)]
    [InlineData("root ::= [^\"]* \"\\\"\"", "ab\"", true)]
    [InlineData("root ::= \"\\u00e9t\\xe9\"", "été", true)]
    [InlineData("root ::= ( \"x\" |\n  \"y\" ) \"z\"", "yz", true)]
    public void Supports_classes_repetition_escapes_and_multi_line_groups(string grammar, string text, bool expected)
    {
        Assert.Equal(expected, GbnfGrammar.Parse(grammar).Matches(text));
    }

    [Theory]
    [InlineData("root ::= \"a\" b", "rule 'b' is used but never defined")]
    [InlineData("root ::= \"abc", "grammar line 1, column 14: expected '\"'")]
    [InlineData("root ::= a\na ::= a \"x\"", "rule 'a' is left-recursive")]
    [InlineData("x ::= \"a\"", "grammar has no rule 'root'")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "grammar line 2, column 10: rule 'root' is defined twice")]
    [InlineData("root ::= \"a\" )", "grammar line 1, column 14: unexpected ')'")]
    public void Errors_name_the_line_column_and_problem(string grammar, string message)
    {
        var error = Assert.Throws<GbnfException>(() => GbnfGrammar.Parse(grammar));

        Assert.Equal(message, error.Message);
    }
}
