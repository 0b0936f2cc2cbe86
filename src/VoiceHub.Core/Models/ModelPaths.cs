
namespace VoiceHub.Core.Models;

/// <summary>Where a model named in the config or on the command line is.</summary>
public static class ModelPaths
{
    /// <summary>A path as given, or a bare file name looked up in the models directory.</summary>
    public static string Resolve(string model, ModelsOptions models)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(models);
        if (Path.IsPathRooted(model) || model.Contains('/', StringComparison.Ordinal) || File.Exists(model))
        {
            return Path.GetFullPath(model);
        }

        return Path.Combine(models.Directory, model);
    }
}
