using System.Security.Cryptography;
using VoiceHub.Core.Configuration;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;
using YamlDotNet.RepresentationModel;

namespace VoiceHub.Core.Models;

/// <summary>A model VoiceHub knows by name: where it comes from and how to check it.</summary>
public sealed record CatalogModel(string Name, string Kind, string File, Uri Url, string? Sha1, string? Sha256, int? SizeMib, string Note);

/// <summary>What <c>models verify</c> found for one file.</summary>
public sealed record ModelCheck(string File, bool Ok, string Detail);

/// <summary>The catalog file (catalog/models.yaml next to the app) and the checks of installed models.</summary>
public sealed class ModelCatalog
{
    private ModelCatalog(IReadOnlyList<CatalogModel> models) => Models = models;

    public IReadOnlyList<CatalogModel> Models { get; }

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "catalog", "models.yaml");

    public CatalogModel? Find(string name) => Models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase) || string.Equals(m.File, name, StringComparison.Ordinal));

    public static ModelCatalog Load(string path)
    {
        var document = YamlFile.Load(path);
        var models = new List<CatalogModel>();
        var root = document.Mapping(document.Root, "the catalog");
        foreach (var node in document.Sequence(YamlFile.Child(root, "models") ?? throw document.Error(root, "no 'models' list"), "models").Children)
        {
            var entry = document.Mapping(node, "a model");
            var url = document.RequiredString(entry, "url", "model");
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw document.Error(node, $"'{url}' is not an http(s) URL");
            }

            models.Add(new CatalogModel(
                document.RequiredString(entry, "name", "model"),
                document.RequiredString(entry, "kind", "model"),
                document.RequiredString(entry, "file", "model"),
                uri,
                document.OptionalString(entry, "sha1"),
                document.OptionalString(entry, "sha256"),
                int.TryParse(document.OptionalString(entry, "size_mib"), out var mib) ? mib : null,
                document.OptionalString(entry, "note") ?? string.Empty));
        }

        return new ModelCatalog(models);
    }

    /// <summary>Where the recorded SHA-256 of a model without a published checksum is kept.</summary>
    public static string RecordedChecksumPath(string modelPath) => modelPath + ".sha256";

    /// <summary>
    /// Checks a model file: its format (the header and tensor sizes, as the engines will read them,
    /// without loading it), and its checksum: the published one, or the one recorded at download.
    /// </summary>
    public static ModelCheck Verify(string path, CatalogModel? model)
    {
        if (!System.IO.File.Exists(path))
        {
            return new ModelCheck(path, false, "not downloaded");
        }

        try
        {
            var kind = model?.Kind ?? (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? "gguf" : "whisper");
            string format;
            if (kind == "gguf")
            {
                var gguf = GgufFile.Read(path);
                format = $"GGUF v{gguf.Version}, {gguf.Tensors.Count} tensors";
            }
            else
            {
                var whisper = WhisperModelFile.Read(path);
                format = $"whisper {whisper.HyperParameters.SizeName}{(whisper.HyperParameters.IsMultilingual ? string.Empty : ".en")}, {whisper.WeightType.Name} weights";
            }
            var (algorithm, expected) = model?.Sha1 is { } sha1 ? ("SHA-1", sha1)
                : model?.Sha256 is { } sha256 ? ("SHA-256", sha256)
                : System.IO.File.Exists(RecordedChecksumPath(path)) ? ("SHA-256 (recorded at download)", System.IO.File.ReadAllText(RecordedChecksumPath(path)).Trim())
                : (null, null);
            if (algorithm is null)
            {
                return new ModelCheck(path, true, $"{format}; no checksum to compare (none published or recorded)");
            }

            var actual = Hash(path, algorithm.StartsWith("SHA-1", StringComparison.Ordinal) ? "sha1" : "sha256");
            return string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase)
                ? new ModelCheck(path, true, $"{format}; {algorithm} matches")
                : new ModelCheck(path, false, $"{algorithm} is {actual}, expected {expected}: the file is corrupt or a different version (download it again)");
        }
        catch (ModelFormatException e)
        {
            return new ModelCheck(path, false, e.Message);
        }
    }

    public static string Hash(string path, string algorithm)
    {
        using var stream = System.IO.File.OpenRead(path);
#pragma warning disable CA5350 // SHA-1 is what whisper.cpp publishes; it checks integrity, it does not authenticate
        var digest = algorithm == "sha1" ? SHA1.HashData(stream) : SHA256.HashData(stream);
#pragma warning restore CA5350
        return Convert.ToHexStringLower(digest);
    }
}
