using System.Text;
using VoiceHub.Core.Models;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>
/// A neural wake model for any phrase without recordings: trained once from espeak-ng renderings
/// of the phrase against speech that is not it (as <c>voicehub wake enroll</c> with no recordings),
/// then kept in <c>models/wake/</c>. The default phrase's model ships with the program.
/// </summary>
public static class PhraseWakeModels
{
    /// <summary>Renderings of the phrase a model is trained from.</summary>
    public const int Renderings = 40;

    /// <summary>
    /// A phrase's sensitivity (0 strict .. 1 eager) as a model threshold: 0.8, the default, is 0.5,
    /// where eval wake put the best balance for the phrase models with their checks.
    /// </summary>
    public static double Threshold(double sensitivity) => Math.Clamp(1 - (0.625 * sensitivity), 0.05, 0.99);

    /// <summary>"Hey Kitchen!" → "hey_kitchen.wake".</summary>
    public static string FileName(string phrase)
    {
        ArgumentNullException.ThrowIfNull(phrase);
        var name = new StringBuilder();
        foreach (var c in phrase.Trim().ToLowerInvariant())
        {
            name.Append(char.IsLetterOrDigit(c) ? c : '_');
        }

        return name.ToString().Trim('_') + ".wake";
    }

    public static EnrolledWakeModel GetOrTrain(string phrase, WakeFeatureModels features, ModelsOptions models, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        var text = WakePhraseText.Normalize(phrase);
        var trained = Path.Combine(models.Directory, "wake", FileName(text));
        var shipped = Path.Combine(AppContext.BaseDirectory, "wake-models", "phrases", FileName(text));
        foreach (var candidate in new[] { trained, shipped }.Where(File.Exists))
        {
            try
            {
                var model = EnrolledWakeModel.Load(candidate);
                if (model.Phrase == text)
                {
                    return model;
                }
            }
            catch (WakeModelException e)
            {
                progress?.Invoke($"{e.Message}; training the phrase's model again");
            }
        }

        progress?.Invoke($"training a wake model for \"{text}\" from espeak-ng (once; about a minute)");
        var made = WakeEnrollment.Train(features, text, [], Renderings, models.PocketsphinxModelDirectory, progress, cancellationToken: cancellationToken);
        Directory.CreateDirectory(Path.GetDirectoryName(trained)!);
        made.Save(trained);
        return made;
    }
}
