using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Audio;
using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Pipeline;

/// <summary>Spoken answers (section <c>speaker</c>).</summary>
public sealed class SpeakerOptions
{
    public const string Section = "speaker";

    /// <summary>ALSA playback device, or "none" to only print and publish answers.</summary>
    public string Device { get; set; } = "default";

    /// <summary>espeak-ng voice.</summary>
    public string Voice { get; set; } = "en-us";

    /// <summary>Words per minute.</summary>
    [System.ComponentModel.DataAnnotations.Range(80, 400)]
    public int WordsPerMinute { get; set; } = 165;

    /// <summary>Without echo cancellation, the microphone stays ignored this long after speech ends (room echo).</summary>
    public TimeSpan EchoTail { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>espeak-ng executable.</summary>
    public string Espeak { get; set; } = "espeak-ng";
}

/// <summary>
/// Says answers out loud. With a feed of what it plays, the pipeline cancels its voice from the
/// microphone and listens on; without one, it ignores the microphone while it speaks (and for the echo tail).
/// </summary>
public interface ISpeaker
{
    /// <summary>Speaking now, or within the echo tail of the last answer.</summary>
    bool IsSpeaking { get; }

    /// <summary>What it plays, as it plays it (the echo canceller's reference); null when it keeps none.</summary>
    SpeakerFeed? Feed { get; }

    /// <summary>Says <paramref name="text"/>; cancelling stops it mid-word (barge-in).</summary>
    Task SayAsync(string text, CancellationToken cancellationToken = default);
}

/// <summary>
/// espeak-ng synthesizes the answer (a WAV on its standard output), which is played through
/// libasound on the configured device. A device that cannot be opened is reported once; answers
/// are then only printed and published, and the hub carries on.
/// </summary>
public sealed partial class EspeakSpeaker(SpeakerOptions options, ILogger logger, TimeProvider? clock = null, string? alsaConfig = null, SpeakerFeed? feed = null) : ISpeaker, IDisposable
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly SemaphoreSlim _one = new(1, 1);
    private volatile bool _speaking;
    private long _quietAfterTicks;
    private bool _outputFailed;

    public bool IsSpeaking => _speaking || _clock.GetUtcNow().UtcTicks < Interlocked.Read(ref _quietAfterTicks);

    /// <summary>The feed, unless answers are never played (device "none"): nothing to cancel, nothing to listen past.</summary>
    public SpeakerFeed? Feed => options.Device == "none" ? null : feed;

    /// <summary>Raised with every answer, spoken or not (the CLI prints it).</summary>
    public event Action<string>? Said;

    public async Task SayAsync(string text, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        // Off the caller's thread at once: the audio loop may be the caller, and synthesis takes a while.
        await Task.Run(() => SpeakAsync(text, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private async Task SpeakAsync(string text, CancellationToken cancellationToken)
    {
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        _speaking = true;
        try
        {
            Said?.Invoke(text);
            if (options.Device == "none" || _outputFailed)
            {
                return;
            }

            var wav = await SynthesizeAsync(text, cancellationToken).ConfigureAwait(false);
            if (wav is not null)
            {
                await Task.Run(() => Play(wav, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            feed?.EndOfSound();
            Interlocked.Exchange(ref _quietAfterTicks, (_clock.GetUtcNow() + options.EchoTail).UtcTicks);
            _speaking = false;
            _one.Release();
        }
    }

    private async Task<byte[]?> SynthesizeAsync(string text, CancellationToken cancellationToken)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(options.Espeak)
            {
                ArgumentList = { "--stdout", "-v", options.Voice, "-s", options.WordsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture), text },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            using var output = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return process.ExitCode == 0 ? output.ToArray() : null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Fail($"{options.Espeak} cannot run ({e.Message}; run: sudo apt-get install -y espeak-ng)");
            return null;
        }
    }

    private void Play(byte[] wav, CancellationToken cancellationToken)
    {
        try
        {
            using var reader = WavReader.Open("espeak-ng output", new MemoryStream(wav));
            using var pcm = AlsaPcm.Open(options.Device, capture: false, reader.Format.SampleRate, 1, TimeSpan.FromMilliseconds(50), alsaConfig);
            var samples = new float[2048 * reader.Format.Channels];
            var mono = new float[2048];
            var block = new short[2048];
            int frames;
            while (!cancellationToken.IsCancellationRequested && (frames = reader.Read(samples) / reader.Format.Channels) > 0)
            {
                AudioFile.DownMix(samples.AsSpan(0, frames * reader.Format.Channels), reader.Format.Channels, mono.AsSpan(0, frames));
                for (var i = 0; i < frames; i++)
                {
                    block[i] = (short)Math.Clamp(mono[i] * 32767f, short.MinValue, short.MaxValue);
                }

                feed?.Write(mono.AsSpan(0, frames), reader.Format.SampleRate); // as it goes to the card: the reference leads its echo
                pcm.Write(block.AsSpan(0, frames));
            }

            if (!cancellationToken.IsCancellationRequested)
            {
                pcm.Drain();
            }
        }
        catch (Exception e) when (e is IOException or AudioFormatException or Native.NativeEngineException or Native.NativeLibraryNotFoundException)
        {
            Fail($"playback on '{options.Device}' failed ({e.Message}); answers are printed and published only");
        }
    }

    private void Fail(string reason)
    {
        if (!_outputFailed)
        {
            _outputFailed = true;
            LogNoOutput(logger, reason);
        }
    }

    public void Dispose() => _one.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Speaker: {Reason}")]
    private static partial void LogNoOutput(ILogger logger, string reason);
}
