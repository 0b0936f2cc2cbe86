using System.Globalization;

namespace VoiceHub.Native.Pocketsphinx;

/// <summary>
/// An MLLR transform of an acoustic model's Gaussian means, as sphinxtrain's <c>mllr_solve</c> writes
/// it and pocketsphinx's <c>-mllr</c> reads it: the class count, the stream count, then per stream its
/// length n, an n×n matrix A, a bias b and n variance scales (each mean μ becomes Aμ + b). pocketsphinx
/// reads it without checking the shapes against the model, so a transform for another model writes
/// out of bounds: it is checked here first.
/// </summary>
public static class MllrTransform
{
    /// <summary>Throws <see cref="ModelFormatException"/> unless <paramref name="path"/> is one transform class for streams of <paramref name="streamLengths"/>, all numbers finite.</summary>
    public static void Check(string path, IReadOnlyList<int> streamLengths)
    {
        ArgumentNullException.ThrowIfNull(streamLengths);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot read the MLLR transform: {e.Message}");
        }

        var numbers = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var at = 0;
        double Next(string what)
        {
            if (at >= numbers.Length)
            {
                throw new ModelFormatException(path, $"not an MLLR transform: it ends before {what}");
            }

            var token = numbers[at++];
            return double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
                ? value
                : throw new ModelFormatException(path, $"not an MLLR transform: '{token}' where {what} belongs is no finite number");
        }

        int Count(string what) => Next(what) is var value && value == Math.Floor(value) && value is >= 0 and <= 10000 ? (int)value
            : throw new ModelFormatException(path, $"not an MLLR transform: {what} {value} is no count");

        if (Count("the class count") != 1)
        {
            throw new ModelFormatException(path, "the MLLR transform has several classes: pocketsphinx applies one transform to every Gaussian (mllr_solve without -cb2mllrfn makes one)");
        }

        var streams = Count("the stream count");
        if (streams != streamLengths.Count)
        {
            throw new ModelFormatException(path, $"the MLLR transform is for {streams} feature streams, the acoustic model has {streamLengths.Count}");
        }

        for (var stream = 0; stream < streams; stream++)
        {
            var length = Count($"stream {stream + 1}'s length");
            if (length != streamLengths[stream])
            {
                throw new ModelFormatException(path, $"the MLLR transform's stream {stream + 1} has {length} coefficients, the acoustic model's {streamLengths[stream]}");
            }

            for (var i = 0; i < (length * length) + (2 * length); i++)
            {
                _ = Next($"stream {stream + 1}'s coefficients");
            }
        }

        if (at != numbers.Length)
        {
            throw new ModelFormatException(path, $"the MLLR transform goes on after its last stream ('{numbers[at]}')");
        }
    }

    /// <summary>
    /// Writes the transform at <paramref name="source"/> (one <see cref="Check"/> passed) moved toward no change by
    /// <paramref name="strength"/>: A' = I + s(A − I), b' = s·b; 1 keeps it as it is, 0 changes nothing.
    /// A transform solved on a mix of clean and noisy speech, half-way, kept more of its gain in noise
    /// than of its loss on clean speech (see the README).
    /// </summary>
    public static void Soften(string source, string destination, double strength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(strength, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(strength, 1);
        var numbers = File.ReadAllText(source).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(n => double.Parse(n, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        var text = new System.Text.StringBuilder();
        var at = 0;
        void Line(IEnumerable<double> values) => text.AppendJoin(' ', values.Select(v => v.ToString("0.######", CultureInfo.InvariantCulture))).Append('\n');
        Line([numbers[at++]]);
        var streams = (int)numbers[at++];
        Line([streams]);
        for (var stream = 0; stream < streams; stream++)
        {
            var n = (int)numbers[at++];
            Line([n]);
            for (var row = 0; row < n; row++)
            {
                var start = at;
                Line(Enumerable.Range(0, n).Select(column => (row == column ? 1 : 0) + (strength * (numbers[start + column] - (row == column ? 1 : 0)))));
                at += n;
            }

            var bias = at;
            Line(Enumerable.Range(0, n).Select(i => strength * numbers[bias + i]));
            at += n;
            Line(numbers.AsSpan(at, n).ToArray());
            at += n;
        }

        File.WriteAllText(destination, text.ToString());
    }

    /// <summary>
    /// The feature streams an acoustic model's Gaussians are over, from the header of its <c>means</c>
    /// (sphinxtrain's format: a text header to "endhdr", a byte-order mark, then the codebook, stream
    /// and density counts and each stream's length; Debian's English model: 3 streams of 13).
    /// </summary>
    public static IReadOnlyList<int> StreamLengths(string acousticModelDirectory)
    {
        var means = Path.Combine(acousticModelDirectory, "means");
        var head = new byte[4096];
        int read;
        try
        {
            using var file = File.OpenRead(means);
            read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(means, $"cannot read the acoustic model's means: {e.Message}");
        }

        var end = head.AsSpan(0, read).IndexOf("endhdr\n"u8);
        if (!head.AsSpan().StartsWith("s3\n"u8) || end < 0 || end + 7 + 16 > read)
        {
            throw new ModelFormatException(means, "not a sphinxtrain means file (no s3 header)");
        }

        var at = end + 7;
        var littleEndian = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(at)) == 0x11223344;
        int Integer(int offset) => littleEndian
            ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(head.AsSpan(at + offset))
            : System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(at + offset));
        var streams = Integer(8);
        if (streams is < 1 or > 16 || at + 16 + (4 * streams) > read)
        {
            throw new ModelFormatException(means, $"the means header gives {streams} feature streams");
        }

        var lengths = Enumerable.Range(0, streams).Select(s => Integer(16 + (4 * s))).ToArray();
        return lengths.All(n => n is >= 1 and <= 1000) ? lengths : throw new ModelFormatException(means, $"the means header gives streams of {string.Join(", ", lengths)} coefficients");
    }
}
