using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.Core.Audio;
using VoiceHub.Native.Audio;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Audio;

/// <summary>
/// The ALSA capture path without a sound card: an ALSA configuration whose capture PCM is the
/// <c>file</c> plugin reading a fixture (timed by the <c>null</c> plugin), read through libasound.
/// </summary>
[Trait("needs", "native")]
public sealed class CaptureTests
{
    private static string FilePcm(string rawFile) => $$"""
        pcm.voicehub_test {
            type file
            slave.pcm { type null }
            file "/dev/null"
            infile "{{rawFile}}"
            format "raw"
        }
        """;

    [Fact]
    public async Task Capture_through_libasound_delivers_the_fixtures_samples()
    {
        using var temp = new TempDirectory();
        var fixture = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));
        var raw = temp.File("fixture.raw");
        await File.WriteAllBytesAsync(raw, [.. fixture.SelectMany(s => BitConverter.GetBytes((short)Math.Round(s * 32768)))]);
        var source = new AlsaAudioSource("voicehub_test", new AudioOptions(), NullLogger.Instance, FilePcm(raw));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var captured = new List<float>();
        var stamps = new List<(long CapturedAt, long Read)>();
        await foreach (var block in source.ReadAsync(cancel.Token))
        {
            stamps.Add((block.CapturedAt, TimeProvider.System.GetTimestamp()));
            captured.AddRange(block.Samples.Span);
            if (captured.Count >= 16000)
            {
                break;
            }
        }

        Assert.True(source.Health.Connected);
        Assert.Contains("16000 Hz, 1 ch, S16_LE", source.Health.Detail, StringComparison.Ordinal);
        var firstDifference = Enumerable.Range(0, 16000).FirstOrDefault(i => fixture[i] != captured[i], -1);
        Assert.True(firstDifference < 0, $"captured audio differs from the fixture at sample {firstDifference}");
        // Each block is stamped with when it was captured, for the speaker feed: in order, and never after it is read.
        Assert.All(stamps, s => Assert.InRange(s.CapturedAt, 1, s.Read));
        Assert.True(stamps.Zip(stamps.Skip(1)).All(p => p.First.CapturedAt <= p.Second.CapturedAt), "capture times go back");
    }
    [Fact]
    public void A_device_that_does_not_exist_is_reported_by_name()
    {
        var error = Assert.Throws<AudioDeviceGoneException>(() => AlsaPcm.Open("hw:42,0", capture: true, 16000, 1, TimeSpan.FromMilliseconds(20)));

        Assert.Equal("hw:42,0", error.Device);
        Assert.StartsWith("hw:42,0: cannot open for capture:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_device_is_retried_with_backoff_instead_of_ending_the_stream()
    {
        var source = new AlsaAudioSource("hw:42,0", new AudioOptions { MaxReconnectDelay = TimeSpan.FromMilliseconds(500) }, NullLogger.Instance);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20)); // a bound, not a measurement
        var reading = Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var block in source.ReadAsync(cancel.Token))
            {
            }
        });

        // The stream stays open through the retries: stop it after the second, however busy the machine is.
        while (source.Health.Reconnects < 2 && !cancel.IsCancellationRequested)
        {
            await Task.Delay(20);
        }

        await cancel.CancelAsync();
        await reading;

        Assert.False(source.Health.Connected);
        Assert.True(source.Health.Reconnects >= 2, $"{source.Health.Reconnects} attempts");
        Assert.Contains("hw:42,0", source.Health.Detail, StringComparison.Ordinal);
    }
}
