using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.Core.Audio;

namespace VoiceHub.App.Cli;

/// <summary>Where a command-line recording (<c>wake enroll --record</c>, <c>adapt --record</c>) listens, and where it keeps what it heard.</summary>
internal static class RecordingInput
{
    /// <summary>
    /// <paramref name="input"/> (alsa:DEVICE, or a WAV of the sayings one after another), else the
    /// configured microphone; <paramref name="whenHeld"/> says what to do when the running hub holds it.
    /// </summary>
    public static IAudioSource Open(string? input, AudioOptions audio, string whenHeld)
    {
        var from = input ?? audio.Input;
        var microphone = from.StartsWith("alsa:", StringComparison.Ordinal);
        if (!microphone && !File.Exists(from))
        {
            throw new InputException($"--input {from}: no such file (give alsa:DEVICE or a WAV)");
        }

        if (microphone && AudioSources.CannotCapture(from["alsa:".Length..], audio) is { } why)
        {
            throw new InputException($"{from}: cannot record ({why}); if the hub is running it holds the microphone: {whenHeld}");
        }

        return AudioSources.Create(from, audio, realTime: microphone, NullLogger.Instance);
    }

    /// <summary>Writes the recordings as WAVs into <paramref name="folder"/> (made if missing), by the names given.</summary>
    public static void Keep(string folder, IEnumerable<(string FileName, float[] Samples)> recordings)
    {
        try
        {
            Directory.CreateDirectory(folder);
            foreach (var (fileName, samples) in recordings)
            {
                WavWriter.Write(Path.Combine(folder, fileName), samples);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"--keep {folder}: cannot write the recordings there ({e.Message})");
        }
    }
}
