using System.Diagnostics;
using System.Runtime.CompilerServices;
using VoiceHub.Core.Audio;

namespace VoiceHub.Tests.Support;

/// <summary>Speech made on the spot with espeak-ng (installed by the setup), and streams built from it.</summary>
public static class SpokenAudio
{
    /// <summary>16 kHz mono samples of <paramref name="text"/> spoken by espeak-ng.</summary>
    public static float[] Say(string text, int wordsPerMinute = 130)
    {
        using var folder = new TempDirectory();
        var wav = Path.Combine(folder.Path, "say.wav");
        using var process = Process.Start(new ProcessStartInfo("espeak-ng") { ArgumentList = { "-v", "en-us", "-s", $"{wordsPerMinute}", "-w", wav, text }, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"espeak-ng: {error}");
        return AudioFile.ReadMono16k(wav);
    }

    /// <summary><paramref name="seconds"/> (at least half a second) of the room with nobody speaking.</summary>
    public static float[] Room(double seconds) => Stream(seconds - 0.5, Array.Empty<float>()); // "[]" would be no piece at all

    /// <summary>Half a second of faint noise, then the pieces one after another, each followed by <paramref name="gapSeconds"/> of it.</summary>
    public static float[] Stream(double gapSeconds, params float[][] pieces)
    {
        var random = new Random(7);
        var gap = (int)(gapSeconds * AudioFile.SampleRate);
        var result = new List<float>(AudioFile.SampleRate);
        void Noise(int count)
        {
            for (var i = 0; i < count; i++)
            {
                result.Add((float)((random.NextDouble() - 0.5) * 0.002));
            }
        }

        Noise(AudioFile.SampleRate / 2);
        foreach (var piece in pieces)
        {
            result.AddRange(piece);
            Noise(gap);
        }

        return [.. result];
    }
}

/// <summary>Audio from memory in 20 ms blocks, as fast as it is read.</summary>
public sealed class MemoryAudioSource(float[] samples, bool realTime = false, Action<TimeSpan>? beforeBlock = null) : IAudioSource
{
    public string Name => "memory";

    public bool IsRealTime => realTime;

    public async IAsyncEnumerable<AudioBlock> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i + 320 <= samples.Length; i += 320)
        {
            cancellationToken.ThrowIfCancellationRequested();
            beforeBlock?.Invoke(AudioFile.Time(i)); // e.g. a button pressed at that moment of the stream
            yield return new AudioBlock(samples.AsMemory(i, 320), AudioFile.Time(i));
            if (i % 16000 == 0)
            {
                await Task.Yield();
            }
        }
    }
}
