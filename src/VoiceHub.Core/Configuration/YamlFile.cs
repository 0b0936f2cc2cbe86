using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VoiceHub.Core.Configuration;

/// <summary>
/// A YAML file read with its line numbers kept, so that every complaint about its content names
/// the file, the line and the problem.
/// </summary>
public sealed class YamlFile
{
    private YamlFile(string path, YamlNode root)
    {
        Path = path;
        Root = root;
    }

    public string Path { get; }

    public YamlNode Root { get; }

    public static YamlFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigurationFileException($"{path}: file not found");
        }

        return Parse(path, text);
    }

    public static YamlFile Parse(string path, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var reason = (e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ");
            throw new ConfigurationFileException($"{path}: line {e.Start.Line}, column {e.Start.Column}: {reason}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new ConfigurationFileException($"{path}: line 1: expected a mapping at the top level");
        }

        return new YamlFile(path, root);
    }

    public ConfigurationFileException Error(YamlNode node, string problem) =>
        new($"{Path}: line {node.Start.Line}: {problem}");

    public YamlMappingNode Mapping(YamlNode node, string what) =>
        node as YamlMappingNode ?? throw Error(node, $"{what} must be a mapping (key: value)");

    public YamlSequenceNode Sequence(YamlNode node, string what) =>
        node as YamlSequenceNode ?? throw Error(node, $"{what} must be a list");

    public string Scalar(YamlNode node, string what) =>
        node is YamlScalarNode { Value: { } value } ? value : throw Error(node, $"{what} must be a single value");

    public static YamlNode? Child(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    public string? OptionalString(YamlMappingNode mapping, string key)
    {
        var child = Child(mapping, key);
        return child is null or YamlScalarNode { Value: null or "~" or "null" } ? null : Scalar(child, $"'{key}'");
    }

    public string RequiredString(YamlMappingNode mapping, string key, string what) =>
        OptionalString(mapping, key) is { Length: > 0 } value ? value : throw Error(mapping, $"{what} has no '{key}'");

    public IReadOnlyList<string> Strings(YamlMappingNode mapping, string key)
    {
        var child = Child(mapping, key);
        return child switch
        {
            null => [],
            YamlScalarNode { Value: null or "~" or "" } => [],
            YamlScalarNode scalar => [scalar.Value!],
            YamlSequenceNode sequence => [.. sequence.Children.Select(c => Scalar(c, $"an item of '{key}'"))],
            _ => throw Error(child, $"'{key}' must be a list of strings"),
        };
    }

    /// <summary>A YAML value as plain .NET data (string, list, dictionary), for free-form attributes.</summary>
    public static object? Plain(YamlNode node) => node switch
    {
        YamlScalarNode { Value: null or "~" or "null" } => null,
        YamlScalarNode scalar => scalar.Value,
        YamlSequenceNode sequence => sequence.Children.Select(Plain).ToList(),
        YamlMappingNode mapping => mapping.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value ?? string.Empty, kv => Plain(kv.Value)),
        _ => null,
    };
}
