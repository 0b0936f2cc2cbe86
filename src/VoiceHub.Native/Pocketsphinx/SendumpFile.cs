using System.Buffers.Binary;
using System.Text;

namespace VoiceHub.Native.Pocketsphinx;

/// <summary>
/// pocketsphinx's <c>sendump</c>: a PTM or semi-continuous model's mixture weights, quantized to a
/// byte each (−log base 1.0001, shifted). The Debian model ships only this; sphinxtrain's tools read
/// the float <c>mixture_weights</c> file, so adapting the model needs them unpacked (as sphinxtrain's
/// own sendump.py does).
/// </summary>
public static class SendumpFile
{
    /// <summary>Unpacks <paramref name="sendump"/> into a sphinxtrain mixture-weights file [senones × streams × densities].</summary>
    public static void WriteMixtureWeights(string sendump, string mixtureWeights)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(sendump);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(sendump, $"cannot read the mixture weights: {e.Message}");
        }

        var at = 0;
        var bigEndian = false;
        int Integer()
        {
            if (at + 4 > data.Length)
            {
                throw new ModelFormatException(sendump, "truncated: the mixture weights end inside their header");
            }

            var value = bigEndian ? BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(at)) : BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at));
            at += 4;
            return value;
        }

        string? Text()
        {
            var length = Integer();
            if (at == 4 && length is < 0 or > 65536)
            {
                bigEndian = true; // the first length tells the byte order, as pocketsphinx reads it
                at = 0;
                length = Integer();
            }

            if (length is < 0 or > 65536 || at + length > data.Length)
            {
                throw new ModelFormatException(sendump, "not a pocketsphinx sendump: a header string runs past the file");
            }

            var text = length == 0 ? null : Encoding.ASCII.GetString(data, at, Math.Max(0, length - 1));
            at += length;
            return text;
        }

        _ = Text(); // the title
        var header = new Dictionary<string, int>(StringComparer.Ordinal);
        while (Text() is { } line)
        {
            if (line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var key, var value] && int.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var number))
            {
                header[key] = number;
            }
        }

        var shift = header.GetValueOrDefault("mixw_shift", 10);
        var streams = header.GetValueOrDefault("feature_count", 0);
        if (header.GetValueOrDefault("cluster_count", 0) != 0 || streams is < 1 or > 16)
        {
            throw new ModelFormatException(sendump, "a clustered sendump, or one with no feature streams: only plain quantized weights are unpacked");
        }

        var densities = Integer();
        var senones = Integer();
        if (densities is < 1 or > 4096 || senones is < 1 or > 1_000_000 || (long)densities * senones * streams != data.Length - at)
        {
            throw new ModelFormatException(sendump, $"{senones} senones of {densities} densities in {streams} streams do not fill the file's {data.Length - at} bytes of weights");
        }

        // Stored per stream and density, a byte per senone; written per senone, stream and density.
        var weights = new float[senones * streams * densities];
        for (var stream = 0; stream < streams; stream++)
        {
            for (var density = 0; density < densities; density++)
            {
                for (var senone = 0; senone < senones; senone++)
                {
                    weights[(((senone * streams) + stream) * densities) + density] = (float)Math.Pow(1.0001, -(data[at++] << shift));
                }
            }
        }

        using var file = File.Create(mixtureWeights);
        using var writer = new BinaryWriter(file);
        writer.Write("s3\nversion 1.0\n  endhdr\n"u8); // the header pads the binary part to 4 bytes
        writer.Write(0x11223344); // byte-order mark, in this machine's order as sphinxtrain writes it
        writer.Write(senones);
        writer.Write(streams);
        writer.Write(densities);
        writer.Write(weights.Length);
        foreach (var weight in weights)
        {
            writer.Write(weight);
        }
    }
}
