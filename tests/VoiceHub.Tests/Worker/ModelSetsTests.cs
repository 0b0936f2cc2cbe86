using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Models;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Thermal;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>Which loaded models a change of the home keeps: memory must follow the home, not the number of updates.</summary>
[Trait("needs", "native")]
public sealed class ModelSetsTests
{
    private static readonly Lazy<IntentSet> s_intents = new(() => IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")));

    private static ModelSets Create(DeviceRegistry registry) => new(
        s_intents.Value, registry, new ModelsOptions(), new SpeechOptions { Engine = "pocketsphinx" }, new WhisperEngineOptions(),
        new PocketsphinxEngineOptions { MaxGrammarEntities = 100 }, new SlmOptions { Model = TestPaths.LlamaTestModel, ContextTokens = 512, Threads = 2 },
        new SchedulerOptions(), NullLogger.Instance);

    [Fact]
    public async Task A_home_growing_past_the_spelled_entities_keeps_the_speech_engine_and_the_language_model()
    {
        using var sets = Create(SyntheticHome.Create(150));
        var first = sets.BuildInitial();

        await sets.UpdateAsync(null, SyntheticHome.Create(400));
        var second = sets.TakeCurrent();
        await sets.UpdateAsync(null, SyntheticHome.Create(1000));
        var third = sets.TakeCurrent();

        Assert.NotSame(first, third);
        Assert.Same(first.Engine, third.Engine);
        Assert.Same(first.Llama, third.Llama);
        Assert.NotSame(first.Slm, third.Slm); // its prompt names the new home
        Assert.Equal(1000, third.Registry.Entities.Count);
        second.Dispose();
        first.Dispose(); // the retired sets let go; the current one still holds the models
        var heard = await third.Engine.TranscribeAsync(new float[16000]);
        Assert.NotNull(heard);
        Assert.NotEmpty(third.Llama!.Tokenize("still loaded", addSpecial: true));
    }

    [Fact]
    public async Task A_change_the_grammar_spells_builds_a_new_engine_and_a_failed_engine_is_never_reused()
    {
        using var sets = Create(SyntheticHome.Create(40));
        var first = sets.BuildInitial();

        await sets.UpdateAsync(null, SyntheticHome.Create(60)); // new names the grammar spells
        var second = sets.TakeCurrent();
        await sets.RebuildCurrentAsync(); // after an engine failure: everything afresh
        var third = sets.TakeCurrent();

        Assert.NotSame(first.Engine, second.Engine);
        Assert.Same(first.Llama, second.Llama); // the weights do not depend on the home
        Assert.NotSame(second.Engine, third.Engine);
        Assert.NotSame(second.Llama, third.Llama);
    }
}
