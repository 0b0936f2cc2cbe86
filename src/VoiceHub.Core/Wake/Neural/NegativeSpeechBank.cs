using System.Text;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>
/// Embeddings of real speech that is no wake phrase, for training verifiers: what tells a verifier
/// how people sound when they are not calling the appliance (espeak-ng's voices alone do not).
/// Each entry is the streamed embedding sequence of one recording (one 96-number embedding per
/// 80 ms), clean or with noise and reverberation; windows of 16 are cut at training time. Stored
/// as half-precision floats: the file is small enough to ship with the program.
/// Format: "VHNB", version (int32), entry count (int32), then per entry: name (int32 length + UTF-8),
/// chunk count (int32), chunk count × 96 halves.
/// </summary>
public sealed class NegativeSpeechBank
{
    public const string FileName = "negative-speech.bank";
    private const int Version = 1;

    public NegativeSpeechBank(IReadOnlyList<(string Name, float[] Embeddings)> entries) => Entries = entries;

    /// <summary>Recording name (with its condition, e.g. "x.wav clean") and its embeddings, chunk after chunk.</summary>
    public IReadOnlyList<(string Name, float[] Embeddings)> Entries { get; }

    /// <summary>The recordings the bank was made from (evaluation leaves them out).</summary>
    public IEnumerable<string> Recordings => Entries.Select(e => e.Name[..Math.Max(0, e.Name.LastIndexOf(' '))]).Distinct(StringComparer.Ordinal);

    /// <summary>The bank beside the program, if it is there.</summary>
    public static NegativeSpeechBank? LoadDefault()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "wake-models", FileName);
        return File.Exists(path) ? Load(path) : null;
    }

    /// <summary>Windows of 16 embeddings of the recording itself, every <paramref name="stride"/> chunks.</summary>
    public IEnumerable<float[]> Windows(int stride)
    {
        var size = WakeFeatureModels.EmbeddingSize;
        foreach (var (_, embeddings) in Entries)
        {
            var chunks = embeddings.Length / size;
            for (var end = WakeFeatureModels.WindowEmbeddings; end <= chunks; end += stride)
            {
                yield return embeddings.AsSpan((end - WakeFeatureModels.WindowEmbeddings) * size, WakeFeatureModels.WindowSize).ToArray();
            }
        }
    }

    public void Save(string path)
    {
        using var writer = new BinaryWriter(File.Create(path), Encoding.UTF8);
        writer.Write("VHNB"u8);
        writer.Write(Version);
        writer.Write(Entries.Count);
        foreach (var (name, embeddings) in Entries)
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            writer.Write(bytes.Length);
            writer.Write(bytes);
            writer.Write(embeddings.Length / WakeFeatureModels.EmbeddingSize);
            foreach (var value in embeddings)
            {
                writer.Write((Half)value);
            }
        }
    }

    public static NegativeSpeechBank Load(string path)
    {
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (!reader.ReadBytes(4).AsSpan().SequenceEqual("VHNB"u8) || reader.ReadInt32() != Version)
            {
                throw new WakeModelException($"{path}: not a negative speech bank of version {Version}");
            }

            var count = reader.ReadInt32();
            var entries = new List<(string, float[])>(Math.Clamp(count, 0, 100_000));
            for (var i = 0; i < count; i++)
            {
                var nameLength = reader.ReadInt32();
                if (nameLength is < 0 or > 4096)
                {
                    throw new WakeModelException($"{path}: entry {i} has a name of {nameLength} bytes");
                }

                var name = Encoding.UTF8.GetString(reader.ReadBytes(nameLength));
                var chunks = reader.ReadInt32();
                if (chunks is < 0 or > 1_000_000)
                {
                    throw new WakeModelException($"{path}: entry {i} claims {chunks} chunks");
                }

                var embeddings = new float[chunks * WakeFeatureModels.EmbeddingSize];
                for (var j = 0; j < embeddings.Length; j++)
                {
                    embeddings[j] = (float)reader.ReadHalf();
                }

                entries.Add((name, embeddings));
            }

            return new NegativeSpeechBank(entries);
        }
        catch (EndOfStreamException e)
        {
            throw new WakeModelException($"{path}: truncated", e);
        }
    }

    /// <summary>Streams recordings through the features, clean and once varied, into a bank.</summary>
    public static NegativeSpeechBank Build(WakeFeatureModels features, IEnumerable<(string Name, float[] Audio)> recordings, int seed = 11)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(recordings);
        var random = new Random(seed);
        var entries = new List<(string, float[])>();
        foreach (var (name, audio) in recordings)
        {
            entries.Add(($"{name} clean", Embed(features, audio)));
            entries.Add(($"{name} varied", Embed(features, WakeTrainer.Vary(audio, random))));
        }

        return new NegativeSpeechBank(entries);
    }

    private static float[] Embed(WakeFeatureModels features, float[] audio)
    {
        var stream = features.OpenStream();
        var embeddings = new List<float>();
        stream.Push(audio, s => embeddings.AddRange(s.Window[^WakeFeatureModels.EmbeddingSize..]));
        return [.. embeddings];
    }
}
