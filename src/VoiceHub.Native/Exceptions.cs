namespace VoiceHub.Native;

/// <summary>A native engine call failed; carries the function and the code it returned.</summary>
public sealed class NativeEngineException : Exception
{
    public NativeEngineException(string engine, string function, int code, string message)
        : base($"{engine}: {function} failed ({code}): {message}")
    {
        Engine = engine;
        Function = function;
        Code = code;
    }

    public string Engine { get; }

    public string Function { get; }

    public int Code { get; }
}

/// <summary>
/// A model file is unusable: missing, truncated, of the wrong kind or with impossible values.
/// Raised by the managed validators before a native loader sees the file, because ggml aborts
/// the whole process on malformed tensors.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string path, string problem)
        : base($"{path}: {PrintableText.Escape(problem)}")
    {
        Path = path;
        Problem = PrintableText.Escape(problem); // it may quote the file (a tensor name, a key): one line, no terminal controls
    }

    public string Path { get; }

    public string Problem { get; }
}

/// <summary>A native library could not be found or loaded; the message says what to run.</summary>
public sealed class NativeLibraryNotFoundException : DllNotFoundException
{
    public NativeLibraryNotFoundException(string library, string problem, string remedy)
        : base($"{library}: {problem}: {remedy}")
    {
        Library = library;
        Remedy = remedy;
    }

    public string Library { get; }

    public string Remedy { get; }
}

/// <summary>Text from outside (a file's bytes, a user's words) made safe for one log or terminal line.</summary>
public static class PrintableText
{
    /// <summary>Control characters (newlines, escape sequences) as visible <c>\uXXXX</c> escapes.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var builder = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
