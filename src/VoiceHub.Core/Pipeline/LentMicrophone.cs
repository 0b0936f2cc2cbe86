using System.Collections.Concurrent;
using System.Threading.Channels;
using VoiceHub.Core.Audio;

namespace VoiceHub.Core.Pipeline;

/// <summary>
/// The hub's microphone lent to a reader for a while (recording the wake phrase): the audio loop
/// writes what it hears, the reader takes it as a source of its own. A few blocks of room, so a
/// file read faster than real time runs no further ahead of the reader than that, and a live
/// microphone never waits on a reader that keeps up.
/// </summary>
internal sealed class LentMicrophone : IAudioSource, IDisposable
{
    private readonly Channel<AudioBlock> _blocks = Channel.CreateBounded<AudioBlock>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });

    public string Name => "the hub's microphone";

    public bool IsRealTime => false;

    /// <summary>What the hub is to say to the person recording (the reader asks, the audio loop says it).</summary>
    public ConcurrentQueue<string> Prompts { get; } = new();

    /// <summary>Passes on a block (whose samples the reader then owns); false once closed.</summary>
    public async ValueTask<bool> WriteAsync(AudioBlock block, CancellationToken cancellationToken) =>
        await _blocks.Writer.WaitToWriteAsync(cancellationToken).ConfigureAwait(false) && _blocks.Writer.TryWrite(block);

    public IAsyncEnumerable<AudioBlock> ReadAsync(CancellationToken cancellationToken) => _blocks.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Ends the reader's stream (the input ended, or the reader is done).</summary>
    public void Close() => _blocks.Writer.TryComplete();

    public void Dispose() => Close();
}
