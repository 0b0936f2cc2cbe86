namespace VoiceHub.Core.Hosting;

/// <summary>
/// Calls back when any of some files (or the files in some folders) changed, by polling their
/// modification times: it works on every file system, including the SD card's and bind mounts
/// where inotify events do not arrive, and a burst of writes by an editor gives one reload.
/// </summary>
public sealed class FileReloader : IDisposable
{
    private readonly IReadOnlyList<string> _paths;
    private readonly Action _changed;
    private readonly Timer _timer;
    private string _fingerprint;

    public FileReloader(IReadOnlyList<string> paths, TimeSpan interval, Action changed)
    {
        _paths = paths;
        _changed = changed;
        _fingerprint = Fingerprint();
        _timer = new Timer(_ => CheckQuietly(), null, interval, interval);
    }

    /// <summary>Checks now (tests, and the timer).</summary>
    public bool Check()
    {
        var now = Fingerprint();
        if (now == _fingerprint)
        {
            return false;
        }

        _fingerprint = now;
        _changed();
        return true;
    }

    private void CheckQuietly()
    {
        try
        {
            Check();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a folder went away or became unreadable: the next check sees whatever is there then
        }
    }

    private string Fingerprint() => string.Join('|', _paths.SelectMany(Files).Select(f =>
    {
        var info = new FileInfo(f);
        return info.Exists ? $"{f}:{info.LastWriteTimeUtc.Ticks}:{info.Length}" : $"{f}:missing";
    }));

    private static IEnumerable<string> Files(string path) =>
        Directory.Exists(path) ? Directory.GetFiles(path, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : [path];

    public void Dispose() => _timer.Dispose();
}
