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

    /// <summary>
    /// Larger than any hand-written or generated home (HA's whole English sentence set is about 2 MiB);
    /// parsing keeps a node graph of several hundred times the text, so a bound keeps a stray file from taking the board's memory.
    /// </summary>
    public const long MaxFileBytes = 8L << 20;

    private static readonly System.Text.UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static YamlFile Load(string path) => Parse(path, ReadText(path));

    /// <summary>A YAML file's text: UTF-8 (with or without a BOM), at most <see cref="MaxFileBytes"/>; any other case is one line naming the file.</summary>
    public static string ReadText(string path)
    {
        if (Directory.Exists(path))
        {
            throw new ConfigurationFileException($"{path}: is a directory, not a YAML file");
        }

        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
            {
                throw new ConfigurationFileException($"{path}: {length >> 20} MiB is larger than the {MaxFileBytes >> 20} MiB a YAML file may have; split it into several files");
            }

            var bytes = File.ReadAllBytes(path);
            var skip = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
            try
            {
                return s_strictUtf8.GetString(bytes, skip, bytes.Length - skip);
            }
            catch (System.Text.DecoderFallbackException)
            {
                var line = 1 + bytes.AsSpan(0, skip + FirstInvalidUtf8(bytes.AsSpan(skip))).Count((byte)'\n');
                throw new ConfigurationFileException($"{path}: line {line}: not UTF-8 text; save the file as UTF-8");
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigurationFileException($"{path}: file not found");
        }
        catch (UnauthorizedAccessException)
        {
            throw new ConfigurationFileException($"{path}: permission denied");
        }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes) =>
        System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var read, out _, replaceInvalidSequences: false) == System.Buffers.OperationStatus.InvalidData ? read : bytes.Length;

    public static YamlFile Parse(string path, string text)
    {
        if (ParseRoot(path, text) is not YamlMappingNode root)
        {
            throw new ConfigurationFileException($"{path}: line 1: expected a mapping at the top level");
        }

        return new YamlFile(path, root);
    }

    /// <summary>
    /// The first document's root node (null for an empty file). Every YAML file VoiceHub reads goes
    /// through here, so a syntax error is always one line naming the file, whatever YamlDotNet throws.
    /// </summary>
    public static YamlNode? ParseRoot(string path, string text)
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
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet's parser reports some malformed input (an unclosed `[` followed by another
            // key, an event it does not expect) as an invalid state of its own, not as a YamlException.
            throw new ConfigurationFileException($"{path}: not valid YAML (an unclosed '[' or '{{'?): {e.Message.ReplaceLineEndings(" ")}", e);
        }

        if (stream.Documents.Count == 0)
        {
            return null;
        }

        CheckKeys(path, stream.Documents[0].RootNode);
        return stream.Documents[0].RootNode;
    }

    /// <summary>Mapping keys must be plain values: a list or mapping used as a key is an error here, not a cast failure later.</summary>
    private static void CheckKeys(string path, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode)
                    {
                        throw new ConfigurationFileException($"{path}: line {key.Start.Line}: a key must be a single value, not a list or mapping");
                    }

                    CheckKeys(path, value);
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var child in sequence.Children)
                {
                    CheckKeys(path, child);
                }

                break;
        }
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
