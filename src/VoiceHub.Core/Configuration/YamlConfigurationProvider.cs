using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VoiceHub.Core.Configuration;

/// <summary>
/// A configuration file that is not valid YAML: names the file, line and problem, on one line (a key
/// it quotes from the file may hold a newline or a terminal escape: those are shown escaped).
/// </summary>
public sealed class ConfigurationFileException(string message, Exception? inner = null) : Exception(Native.PrintableText.Escape(message), inner);

/// <summary>
/// Reads a YAML file into configuration keys (<c>mqtt: { host: x }</c> becomes <c>mqtt:host</c>;
/// list items are numbered), so the sealed options classes bind from YAML like from JSON.
/// </summary>
public sealed class YamlConfigurationSource(string path, bool optional) : IConfigurationSource
{
    public string Path { get; } = path;

    public bool Optional { get; } = optional;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new YamlConfigurationProvider(this);
}

public sealed class YamlConfigurationProvider(YamlConfigurationSource source) : ConfigurationProvider
{
    public override void Load()
    {
        if (!File.Exists(source.Path))
        {
            if (source.Optional)
            {
                return;
            }

            throw new ConfigurationFileException($"{source.Path}: file not found");
        }

        Data = Parse(source.Path, YamlFile.ReadText(source.Path));
    }

    public static Dictionary<string, string?> Parse(string path, string yaml)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        switch (YamlFile.ParseRoot(path, yaml))
        {
            case null:
                return data;
            case YamlMappingNode root:
                Flatten(root, null, data);
                return data;
            default:
                throw new ConfigurationFileException($"{path}: line 1: the top level must be a mapping of sections (mqtt:, audio:, ...)");
        }
    }

    private static void Flatten(YamlNode node, string? prefix, Dictionary<string, string?> data)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    var name = ((YamlScalarNode)key).Value ?? string.Empty;
                    Flatten(value, prefix is null ? name : $"{prefix}:{name}", data);
                }

                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Flatten(sequence.Children[i], $"{prefix}:{i}", data);
                }

                break;
            case YamlScalarNode scalar:
                data[prefix ?? string.Empty] = scalar.Value is "~" or "null" ? null : scalar.Value;
                break;
        }
    }
}

public static class YamlConfigurationExtensions
{
    public static IConfigurationBuilder AddYamlFile(this IConfigurationBuilder builder, string path, bool optional = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new YamlConfigurationSource(path, optional));
    }
}
