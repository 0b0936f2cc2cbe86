using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace VoiceHub.Core.Hosting;

/// <summary>
/// sd_notify(3) without libsystemd: datagrams to the socket systemd names in NOTIFY_SOCKET
/// (a path, or an abstract name starting with '@'). READY=1 once the hub listens, STATUS= lines
/// for <c>systemctl status</c>, and WATCHDOG=1 at half the interval systemd asks for in
/// WATCHDOG_USEC. Outside systemd every call does nothing.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    public SystemdNotifier(string? notifySocket = null, string? watchdogMicroseconds = null, string? watchdogProcess = null)
    {
        notifySocket ??= Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        watchdogMicroseconds ??= Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        watchdogProcess ??= Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(notifySocket))
        {
            _endpoint = new UnixDomainSocketEndPoint(notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket);
            // Never block the hub on a busy receiver (its queue holds ~10 datagrams): drop the message instead.
            _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
        }

        var forUs = string.IsNullOrEmpty(watchdogProcess) || watchdogProcess == Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        if (forUs && long.TryParse(watchdogMicroseconds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var micro) && micro > 0)
        {
            WatchdogInterval = TimeSpan.FromTicks(micro * 10);
        }
    }

    public bool IsActive => _socket is not null;

    /// <summary>How often systemd expects WATCHDOG=1, or null when the unit has no watchdog.</summary>
    public TimeSpan? WatchdogInterval { get; }

    public void Ready(string status) => Notify($"READY=1\nSTATUS={status}");

    public void Status(string status) => Notify($"STATUS={status}");

    public void Watchdog() => Notify("WATCHDOG=1");

    public void Stopping() => Notify("STOPPING=1\nSTATUS=stopping");

    /// <summary>
    /// Asks systemd for more start-up time (EXTEND_TIMEOUT_USEC) now and every <paramref name="every"/>
    /// until disposed: work before READY=1 that may outlast the unit's TimeoutStartSec on a slow board
    /// (a wake phrase's model trained on first start takes minutes on a Pi) is not killed and restarted
    /// from nothing. Each request covers three intervals, so one lost datagram does no harm.
    /// </summary>
    public IDisposable KeepStarting(string status, TimeSpan? every = null)
    {
        var interval = every ?? TimeSpan.FromSeconds(30);
        return new StartupExtension(this, $"EXTEND_TIMEOUT_USEC={(long)(3 * interval).TotalMicroseconds}\nSTATUS={status}", interval);
    }

    /// <summary>The requests of <see cref="KeepStarting"/>: none once disposed, not even one a timer had already queued (it would follow READY=1 and show a stale status).</summary>
    private sealed class StartupExtension : IDisposable
    {
        private readonly Lock _lock = new();
        private readonly SystemdNotifier _notifier;
        private readonly string _message;
        private readonly Timer _timer;
        private bool _done;

        public StartupExtension(SystemdNotifier notifier, string message, TimeSpan interval)
        {
            (_notifier, _message) = (notifier, message);
            notifier.Notify(message); // at once: the work may be over before a pool thread runs the timer
            _timer = new Timer(_ => Request(), null, interval, interval);
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _done = true;
            }

            _timer.Dispose();
        }

        private void Request()
        {
            lock (_lock)
            {
                if (!_done)
                {
                    _notifier.Notify(_message);
                }
            }
        }
    }

    public void Notify(string state)
    {
        if (_socket is null)
        {
            return;
        }

        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint!);
        }
        catch (SocketException)
        {
            // systemd went away (a shutdown in progress) or is not reading: the next message tells again
        }
        catch (ObjectDisposedException)
        {
            // the hub is stopping: a timer's last request (KeepStarting) came after the socket closed
        }
    }

    public void Dispose() => _socket?.Dispose();
}
