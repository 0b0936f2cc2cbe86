using LLama;
using VoiceHub.Native;
using VoiceHub.Native.ModelFiles;

namespace VoiceHub.Core.Language;

/// <summary>The weight types the thermal ladder steps through, heaviest first.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707", Justification = "llama.cpp's names for these types, as users see them in model file names.")]
public enum QuantizationType
{
    Q8_0,
    Q4_K_M,
    Q4_0,
}

/// <summary>
/// Re-quantizes a GGUF model with llama.cpp's quantizer (LLamaSharp's <see cref="LLamaQuantizer"/>),
/// so one downloaded model yields the lighter rungs of the thermal ladder. The source is validated
/// in managed code first, and the result is written beside the target and moved into place only
/// when complete and readable, so a failed or interrupted run leaves no half-written model.
/// </summary>
public static class LanguageModelQuantizer
{
    /// <summary>Rows of the block-quantized types are made of 32-value blocks.</summary>
    private const int BlockValues = 32;

    public static string FileSuffix(QuantizationType type) => type.ToString().ToUpperInvariant();

    /// <summary>Writes <paramref name="source"/> quantized to <paramref name="type"/> at <paramref name="destination"/>.</summary>
    public static GgufFile Quantize(string source, string destination, QuantizationType type, int threads = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var input = GgufFile.Read(source);
        if (input.Tensors.FirstOrDefault(t => t.Shape.Count >= 2 && t.Shape[0] % BlockValues != 0) is { } odd)
        {
            throw new ModelFormatException(source, $"tensor '{odd.Name}' has rows of {odd.Shape[0]} values; quantizing needs a multiple of {BlockValues}");
        }

        if (Path.GetFullPath(source) == Path.GetFullPath(destination))
        {
            throw new ArgumentException($"{destination}: the quantized model must not overwrite its source", nameof(destination));
        }

        LlamaRuntime.EnsureLoaded(); // the quantizer does not load llama.cpp by itself
        var partial = destination + ".part";
        using var capture = LlamaRuntime.CaptureOnThisThread();
        try
        {
            // Re-quantizing is allowed: a Q8_0 download can still make the Q4 rungs (at some quality cost).
            if (!LLamaQuantizer.Quantize(source, partial, type.ToString().ToLowerInvariant(), threads, true, true))
            {
                throw new NativeEngineException("llama", "llama_model_quantize", 1, $"{source} could not be quantized to {type}: {capture.LastProblem}");
            }

            _ = GgufFile.Read(partial);
            File.Move(partial, destination, overwrite: true);
            return GgufFile.Read(destination);
        }
        finally
        {
            File.Delete(partial);
        }
    }
}
