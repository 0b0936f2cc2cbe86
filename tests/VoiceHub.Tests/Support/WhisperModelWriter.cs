using System.Text;
using VoiceHub.Native.ModelFiles;

namespace VoiceHub.Tests.Support;

/// <summary>
/// Writes a complete whisper.cpp model with random weights: the real tiny.en vocabulary and mel
/// filters (taken from whisper.cpp's test model) and every tensor whisper.cpp allocates, with
/// small dimensions. Unlike the weightless test model it decodes tokens, so transcripts have
/// segments, timestamps and confidences (of gibberish) that tests can check.
/// </summary>
public static class WhisperModelWriter
{
    public static string Write(string path, int state = 64, int heads = 2, int layers = 1, int seed = 1)
    {
        var source = File.ReadAllBytes(TestPaths.WhisperTestModel);
        var random = new Random(seed);
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write(WhisperModelFile.Magic);
        var header = new int[11];
        Buffer.BlockCopy(source, 4, header, 0, 44);
        var h = new WhisperHyperParameters(header[0], header[1], state, heads, layers, header[5], state, heads, layers, header[9], 1);
        foreach (var value in new[] { h.VocabularySize, h.AudioContext, h.AudioState, h.AudioHeads, h.AudioLayers, h.TextContext, h.TextState, h.TextHeads, h.TextLayers, h.MelBands, h.FileType })
        {
            writer.Write(value);
        }

        writer.Write(source, 48, source.Length - 48); // mel filters and vocabulary
        foreach (var (name, (shape, type)) in WhisperModelFile.ExpectedTensors(h, GgmlTypes.F16))
        {
            var elements = shape[0] * shape[1] * shape[2];
            var dimensions = shape[2] > 1 ? 3 : shape[1] > 1 ? 2 : 1;
            var nameBytes = Encoding.UTF8.GetBytes(name);
            writer.Write(dimensions);
            writer.Write(nameBytes.Length);
            writer.Write(type.Id);
            for (var d = 0; d < dimensions; d++)
            {
                writer.Write((int)shape[d]);
            }

            writer.Write(nameBytes);
            var scale = name.EndsWith(".bias", StringComparison.Ordinal) ? 0f
                : name.Contains("ln", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal) ? -1f
                : name.Contains("token_embedding", StringComparison.Ordinal) ? 1f
                : name.Contains("positional", StringComparison.Ordinal) ? 0.02f
                : 1f / MathF.Sqrt(shape[0]);
            for (long i = 0; i < elements; i++)
            {
                var value = scale < 0 ? 1f : scale == 0 ? 0f : scale * Gaussian(random);
                if (type == GgmlTypes.F16)
                {
                    writer.Write((Half)value);
                }
                else
                {
                    writer.Write(value);
                }
            }
        }

        return path;
    }

    private static float Gaussian(Random random)
    {
        var u = 1.0 - random.NextDouble();
        var v = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
    }
}
