using System.Text;

namespace VoiceHub.App.Cli;

/// <summary>Reading what verbs are given: text lines that may not be UTF-8, and K=V context pairs.</summary>
public static class Inputs
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Lines of a stream, each decoded strictly: a line that is not UTF-8 comes back as an error instead of mangled text.</summary>
    public static IEnumerable<(int Line, string? Text, string? Error)> ReadLines(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new MemoryStream();
        var number = 0;
        int b;
        while (true)
        {
            b = stream.ReadByte();
            if (b is '\n' or -1)
            {
                if (b == -1 && buffer.Length == 0)
                {
                    yield break;
                }

                number++;
                var bytes = buffer.ToArray();
                var length = bytes.Length > 0 && bytes[^1] == '\r' ? bytes.Length - 1 : bytes.Length;
                string? text = null;
                string? error = null;
                try
                {
                    text = s_strictUtf8.GetString(bytes, 0, length);
                }
                catch (DecoderFallbackException e)
                {
                    error = $"line {number} is not valid UTF-8 (bad byte at offset {e.Index})";
                }

                yield return (number, text, error);
                buffer.SetLength(0);
                if (b == -1)
                {
                    yield break;
                }
            }
            else
            {
                buffer.WriteByte((byte)b);
            }
        }
    }

    /// <summary>Parses --context K=V pairs; a pair without '=' is bad input.</summary>
    public static Dictionary<string, string> Context(IEnumerable<string>? pairs)
    {
        var context = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new InputException($"--context '{pair}' is not KEY=VALUE");
            }

            context[pair[..equals].Trim()] = pair[(equals + 1)..].Trim();
        }

        return context;
    }

    /// <summary>The intents shipped with the app, as the default for --intents.</summary>
    public static string DefaultIntents() => Core.Intents.IntentSet.ShippedDirectory;
}
