using VoiceHub.Core.Devices;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Models;

namespace VoiceHub.Core.Speech;

/// <summary>Which speech engine runs (section <c>speech</c>).</summary>
public sealed class SpeechOptions
{
    public const string Section = "speech";

    /// <summary><c>auto</c> (whisper when its model is installed, else pocketsphinx), <c>whisper</c> or <c>pocketsphinx</c>.</summary>
    public string Engine { get; set; } = "auto";
}

/// <summary>Builds a speech engine by name from the configuration.</summary>
public static class SpeechEngines
{
    public static readonly string[] Names = ["pocketsphinx", "whisper"];

    /// <summary>"auto" resolved: whisper when its model file exists, else the closed-set engine.</summary>
    public static string Resolve(string name, ModelsOptions models, WhisperEngineOptions whisper)
    {
        ArgumentNullException.ThrowIfNull(whisper);
        if (name != "auto")
        {
            return Names.Contains(name) ? name : throw new ArgumentException($"unknown speech engine '{name}' ({string.Join(", ", Names)}, auto)", nameof(name));
        }

        return whisper.Model.Length > 0 && File.Exists(ModelPaths.Resolve(whisper.Model, models)) ? "whisper" : "pocketsphinx";
    }

    public static ISpeechEngine Create(string name, ModelsOptions models, PocketsphinxEngineOptions pocketsphinx, WhisperEngineOptions whisper, IntentSet intents, DeviceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(whisper);
        return Resolve(name, models, whisper) switch
        {
            "pocketsphinx" => new PocketsphinxCommandEngine(models.PocketsphinxModelDirectory, pocketsphinx, intents, registry),
            _ => whisper.Model.Length == 0
                ? throw new ArgumentException("the whisper engine needs a model: set speech.whisper.model or pass --model (voicehub models list shows them)", nameof(whisper))
                : new WhisperEngine(ModelPaths.Resolve(whisper.Model, models), whisper, intents, registry),
        };
    }
}
