using System.Collections.Concurrent;

namespace VoiceHub.Native;

/// <summary>
/// One dedicated thread that runs every call into one native context, in order. Calls into a
/// context are therefore serialized without locks, always come from the same thread (stable for
/// the engines' thread pools), and cost a queue hand-off instead of a thread start per utterance
/// or per token. Continuations of the returned tasks run on the thread pool, never on this thread.
/// </summary>
public sealed class NativeWorker : IDisposable
{
    private readonly BlockingCollection<Action> _jobs = [];
    private readonly Thread _thread;

    public NativeWorker(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public Task RunAsync(Action job) => RunAsync(() =>
    {
        job();
        return true;
    });

    public Task<T> RunAsync<T>(Func<T> job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _jobs.Add(() =>
            {
                try
                {
                    completion.SetResult(job());
                }
                catch (OperationCanceledException e)
                {
                    completion.SetCanceled(e.CancellationToken);
                }
                catch (Exception e)
                {
                    completion.SetException(e);
                }
            });
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(_thread.Name);
        }

        return completion.Task;
    }

    private void Loop()
    {
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            job();
        }
    }

    public void Dispose()
    {
        _jobs.CompleteAdding();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _jobs.Dispose();
    }
}
