using System.ComponentModel.DataAnnotations;

namespace VoiceHub.Core.Models;

/// <summary>Where downloaded models live (section <c>models</c>).</summary>
public sealed class ModelsOptions
{
    public const string Section = "models";

    /// <summary>
    /// Directory of whisper (<c>ggml-*.bin</c>) and language (<c>*.gguf</c>) models. The service uses
    /// /var/lib/voicehub/models; a developer's default is under ~/.local/share.
    /// </summary>
    [Required]
    public string Directory { get; set; } = DefaultDirectory();

    /// <summary>Debian pocketsphinx-en-us: the acoustic model (en-us/), dictionary and language model.</summary>
    [Required]
    public string PocketsphinxModelDirectory { get; set; } = "/usr/share/pocketsphinx/model/en-us";

    public static string DefaultDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("VOICEHUB_MODELS_DIR");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment;
        }

        var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrWhiteSpace(dataHome))
        {
            dataHome = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        }

        return Path.Combine(dataHome, "voicehub", "models");
    }
}
