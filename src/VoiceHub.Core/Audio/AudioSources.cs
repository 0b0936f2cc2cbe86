using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VoiceHub.Native.Audio;

namespace VoiceHub.Core.Audio;

/// <summary>
/// One block of 16 kHz mono audio and when it started (time since the source began). The samples
/// are valid until the source produces the next block: consumers copy what they keep (the ring
/// buffer does), so steady-state capture allocates nothing.
/// </summary>
/// <param name="CapturedAt">
/// When a sound card captured the block's end (a <see cref="TimeProvider.System"/> timestamp,
/// taken as the read returned, less what the card had captured beyond it: late by the capture
/// thread's wake-up), so the speaker feed can line up with it; 0 for files.
/// </param>
public readonly record struct AudioBlock(ReadOnlyMemory<float> Samples, TimeSpan Start, long CapturedAt = 0)
{
    public TimeSpan End => Start + AudioFile.Time(Samples.Length);
}

/// <summary>Where microphone audio comes from: a sound card, or a WAV file played as if it were one.</summary>
public interface IAudioSource
{
    string Name { get; }

    /// <summary>Blocks come at the pace of speech (a microphone, a file played in real time), not as fast as they are read.</summary>
    bool IsRealTime { get; }

    /// <summary>Blocks of 16 kHz mono audio until the source ends or <paramref name="cancellationToken"/> fires.</summary>
    IAsyncEnumerable<AudioBlock> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>Options of the audio front end (section <c>audio</c>).</summary>
public sealed class AudioOptions
{
    public const string Section = "audio";

    /// <summary><c>alsa:DEVICE</c> (e.g. alsa:default, alsa:plughw:1) or a WAV file path.</summary>
    public string Input { get; set; } = "alsa:default";

    /// <summary>Samples per block delivered to the pipeline.</summary>
    public TimeSpan BlockDuration { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How much audio before the wake word's end is kept, so no command is clipped.</summary>
    public TimeSpan PreRoll { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Longest wait between attempts to reopen a capture device that went away.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Voice activity detection and endpointing (<c>audio.vad</c>).</summary>
    public VadOptions Vad { get; set; } = new();

    /// <summary>Cancelling the hub's own sound, so it can be interrupted (<c>audio.echo</c>).</summary>
    public EchoCancellationOptions Echo { get; set; } = new();
}

/// <summary>
/// Streams a WAV file (any PCM or float format, rate and channel count) as 16 kHz mono blocks,
/// without loading it whole; in real time (as a microphone would deliver it) or as fast as read.
/// </summary>
public sealed class WavFileSource(string path, TimeSpan blockDuration, bool realTime, TimeProvider? clock = null) : IAudioSource
{
    public string Name => $"file:{Path.GetFileName(path)}";

    public bool IsRealTime => realTime;

    public async IAsyncEnumerable<AudioBlock> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var time = clock ?? TimeProvider.System;
        using var reader = WavReader.Open(path);
        var channels = reader.Format.Channels;
        var inputFrames = Math.Max(1, (int)(reader.Format.SampleRate * blockDuration.TotalSeconds));
        var interleaved = new float[inputFrames * channels];
        var mono = new float[inputFrames];
        using var resampler = reader.Format.SampleRate == AudioFile.SampleRate ? null : new SoxrResampler(reader.Format.SampleRate, AudioFile.SampleRate);
        var output = new float[resampler?.MaxOutputFor(inputFrames) ?? inputFrames];
        var emitted = 0L;
        var started = time.GetTimestamp();
        int read;
        while ((read = reader.Read(interleaved)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var frames = read / channels;
            AudioFile.DownMix(interleaved.AsSpan(0, read), channels, mono.AsSpan(0, frames));
            var count = resampler?.Process(mono.AsSpan(0, frames), output) ?? Copy(mono, frames, output);
            if (count == 0)
            {
                continue;
            }

            var start = AudioFile.Time(emitted);
            emitted += count;
            if (realTime)
            {
                var due = start - time.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, time, cancellationToken).ConfigureAwait(false);
                }
            }

            yield return new AudioBlock(output.AsMemory(0, count), start);
        }

        if (resampler is not null && resampler.Flush(output) is var tail and > 0)
        {
            yield return new AudioBlock(output.AsMemory(0, tail), AudioFile.Time(emitted));
        }
    }

    private static int Copy(float[] mono, int frames, float[] output)
    {
        mono.AsSpan(0, frames).CopyTo(output);
        return frames;
    }
}

/// <summary>The state of a capture source, for health reporting and doctor.</summary>
public sealed record CaptureHealth(bool Connected, string Detail, long Recoveries, int Reconnects);

/// <summary>
/// Captures from an ALSA device, in the format the hardware offers, resampled to 16 kHz and mixed
/// to mono. Overruns are recovered inside <see cref="AlsaPcm"/>; when the device disappears the
/// source waits and reopens it with growing delays (up to a limit) instead of ending the stream.
/// </summary>
public sealed partial class AlsaAudioSource(string device, AudioOptions options, ILogger logger, string? configText = null) : IAudioSource
{
    private volatile CaptureHealth _health = new(false, "not started", 0, 0);

    public string Name => $"alsa:{device}";

    public bool IsRealTime => true;

    public CaptureHealth Health => _health;

    public async IAsyncEnumerable<AudioBlock> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        var reconnects = 0;
        var emitted = 0L;
        var channel = System.Threading.Channels.Channel.CreateBounded<(float[] Buffer, int Count, long CapturedAt)>(new System.Threading.Channels.BoundedChannelOptions(64)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        while (!cancellationToken.IsCancellationRequested)
        {
            AlsaPcm pcm;
            try
            {
                pcm = AlsaPcm.Open(device, capture: true, AudioFile.SampleRate, 1, options.BlockDuration, configText);
            }
            catch (AudioDeviceGoneException e)
            {
                _health = new CaptureHealth(false, e.Message, _health.Recoveries, reconnects);
                LogUnavailable(logger, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
                reconnects++;
                continue;
            }

            delay = TimeSpan.FromMilliseconds(250);
            _health = new CaptureHealth(true, $"{pcm.Format.SampleRate} Hz, {pcm.Format.Channels} ch, {pcm.Format.SampleFormat}", pcm.Recoveries, reconnects);
            LogOpened(logger, device, pcm.Format.SampleRate, pcm.Format.Channels, pcm.Format.SampleFormat);

            // Blocking reads on their own thread; blocks pass through a queue of about a second. A consumer
            // slower than that makes the reader wait, the device overrun, and ALSA's recovery count it.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var reader = Task.Factory.StartNew(() => Capture(pcm, channel.Writer, stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            var resampler = pcm.Format.SampleRate == AudioFile.SampleRate ? null : new SoxrResampler(pcm.Format.SampleRate, AudioFile.SampleRate);
            var block = new float[resampler?.MaxOutputFor(8192) ?? 8192];
            try
            {
                while (true)
                {
                    (float[] Buffer, int Count, long CapturedAt) item;
                    try
                    {
                        if (!await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) || !channel.Reader.TryRead(out item))
                        {
                            break;
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        yield break;
                    }

                    if (item.Count < 0)
                    {
                        break; // the capture thread lost the device
                    }

                    var count = resampler?.Process(item.Buffer.AsSpan(0, item.Count), block) ?? Copy(item.Buffer, item.Count, block);
                    var start = AudioFile.Time(emitted);
                    emitted += count;
                    _health = _health with { Recoveries = pcm.Recoveries };
                    yield return new AudioBlock(block.AsMemory(0, count), start, item.CapturedAt);
                }
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await reader.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
                resampler?.Dispose();
                pcm.Dispose();
            }

            _health = new CaptureHealth(false, "device went away; reopening", pcm.Recoveries, ++reconnects);
        }
    }

    private void Capture(AlsaPcm pcm, System.Threading.Channels.ChannelWriter<(float[] Buffer, int Count, long CapturedAt)> writer, CancellationToken token)
    {
        var frames = Math.Max(1, (int)(pcm.Format.SampleRate * options.BlockDuration.TotalSeconds));
        var interleaved = new float[frames * pcm.Format.Channels];
        var pool = new float[80][]; // more buffers than the queue holds, so none is reused while queued
        for (var i = 0; i < pool.Length; i++)
        {
            pool[i] = new float[frames];
        }

        var next = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var read = pcm.Read(interleaved, frames);
                // As the read returns, less what the card captured since: the block's end, to the thread's wake-up.
                var capturedAt = TimeProvider.System.GetTimestamp() - (pcm.BufferedFrames * TimeProvider.System.TimestampFrequency / pcm.Format.SampleRate);
                var mono = pool[next++ % pool.Length]; // a ring of buffers: no allocation per block
                AudioFile.DownMix(interleaved.AsSpan(0, read * pcm.Format.Channels), pcm.Format.Channels, mono.AsSpan(0, read));
                if (!writer.TryWrite((mono, read, capturedAt)))
                {
                    writer.WriteAsync((mono, read, capturedAt), token).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (AudioDeviceGoneException e)
        {
            LogLost(logger, e.Message);
            writer.TryWrite(([], -1, 0));
        }
        catch (OperationCanceledException)
        {
            // the consumer stopped
        }
    }

    private static int Copy(float[] source, int count, float[] destination)
    {
        source.AsSpan(0, count).CopyTo(destination);
        return count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Capturing from {Device}: {Rate} Hz, {Channels} channel(s), {Format}")]
    private static partial void LogOpened(ILogger logger, string device, int rate, int channels, string format);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Microphone unavailable ({Reason}); retrying in {Seconds:0.0} s")]
    private static partial void LogUnavailable(ILogger logger, string reason, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Microphone lost: {Reason}")]
    private static partial void LogLost(ILogger logger, string reason);
}

/// <summary>Picks the audio source an input string names: <c>alsa:DEVICE</c> or a WAV path.</summary>
public static class AudioSources
{
    /// <summary>Why an ALSA capture device cannot be opened now, or null when it can.</summary>
    public static string? CannotCapture(string device, AudioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            using var pcm = AlsaPcm.Open(device, capture: true, AudioFile.SampleRate, 1, options.BlockDuration);
            return null;
        }
        catch (AudioDeviceGoneException e)
        {
            return e.Message;
        }
    }

    public static IAudioSource Create(string input, AudioOptions options, bool realTime, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        return input.StartsWith("alsa:", StringComparison.Ordinal)
            ? new AlsaAudioSource(input["alsa:".Length..], options, logger)
            : new WavFileSource(input, options.BlockDuration, realTime);
    }
}
