using VoiceHub.Core.Speech;

namespace VoiceHub.Tests.Speech;

/// <summary>espeak-ng pronunciations for words the pocketsphinx dictionary lacks.</summary>
[Trait("needs", "native")]
public sealed class EspeakPronouncerTests
{
    [Fact]
    public void Many_words_from_one_process_match_each_word_asked_alone()
    {
        string[] words = ["zigbee", "tasmota", "voicehub", "shelly", "sonoff", "xyzzy"];

        var batch = EspeakPronouncer.PronounceAll(words);

        Assert.Equal(words.Length, batch.Count);
        Assert.All(words, w => Assert.Equal(EspeakPronouncer.Pronounce(w), batch[w]));
        Assert.Equal("Z IH G B IY", batch["zigbee"]);
    }

    [Fact]
    public void A_word_espeak_splits_into_two_lines_falls_back_to_asking_each_word_alone()
    {
        string[] words = ["zigbee", "dr.who", "tasmota"];

        var batch = EspeakPronouncer.PronounceAll(words);

        Assert.Equal(EspeakPronouncer.Pronounce("tasmota"), batch["tasmota"]);
        Assert.Equal(EspeakPronouncer.Pronounce("dr.who"), batch["dr.who"]);
    }
}
