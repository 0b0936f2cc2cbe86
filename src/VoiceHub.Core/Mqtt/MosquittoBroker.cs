using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VoiceHub.Core.Configuration;

namespace VoiceHub.Core.Mqtt;

/// <summary>
/// A mosquitto broker the hub runs itself, on a loopback port: the embedded default when no broker
/// answers, and the broker of the tests. Persistence is on, so a restart keeps sessions and their
/// queued messages like a real installation's broker. Extra configuration lines add passwords or TLS.
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly string _configFile;
    private Process? _process;

    private MosquittoBroker(string directory, int port, string configFile)
    {
        Directory = directory;
        Port = port;
        _configFile = configFile;
    }

    public string Directory { get; }

    public int Port { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Where Debian installs the broker.</summary>
    public static string? Executable => s_executables.FirstOrDefault(File.Exists);

    private static readonly string[] s_executables = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

    /// <summary>Starts mosquitto in <paramref name="directory"/> (config, persistence, log) on a free loopback port.</summary>
    public static MosquittoBroker Start(string directory, IEnumerable<string>? extraConfig = null, int? port = null)
    {
        var executable = Executable ?? throw new InvalidOperationException("mosquitto is not installed (run: sudo apt-get install -y mosquitto)");
        System.IO.Directory.CreateDirectory(directory);
        var chosen = port ?? FreeLoopbackPort();
        var config = Path.Combine(directory, "mosquitto.conf");
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"listener {chosen} 127.0.0.1"),
            // Started by root (tests, CI) mosquitto would switch to the "mosquitto" user and lose
            // access to this folder; as anyone else the line is ignored.
            $"user {Environment.UserName}",
            "persistence true",
            $"persistence_location {directory.TrimEnd('/')}/",
            "autosave_interval 1",
            $"log_dest file {Path.Combine(directory, "mosquitto.log")}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        };
        var extra = extraConfig?.ToList() ?? [];
        if (!extra.Any(l => l.StartsWith("allow_anonymous", StringComparison.Ordinal)))
        {
            lines.Add(extra.Any(l => l.StartsWith("password_file", StringComparison.Ordinal)) ? "allow_anonymous false" : "allow_anonymous true");
        }

        lines.AddRange(extra);
        File.WriteAllLines(config, lines);
        var broker = new MosquittoBroker(directory, chosen, config);
        broker.Launch(executable);
        return broker;
    }

    /// <summary>Starts the broker again on the same port (after <see cref="Stop"/>).</summary>
    public void Restart() => Launch(Executable!);

    /// <summary>Stops the broker: gracefully (SIGTERM, persistence written) or by SIGKILL.</summary>
    public void Stop(bool graceful = true)
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        if (graceful)
        {
            _ = Native.ProcessSignals.Terminate(_process.Id);
            if (!_process.WaitForExit(5000))
            {
                _process.Kill();
            }
        }
        else
        {
            _process.Kill();
        }

        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    private void Launch(string executable)
    {
        _process = Process.Start(new ProcessStartInfo(executable) { ArgumentList = { "-c", _configFile }, RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException($"{executable} did not start");
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited)
            {
                var log = Path.Combine(Directory, "mosquitto.log");
                var reason = File.Exists(log) ? File.ReadLines(log).LastOrDefault() : _process.StandardError.ReadToEnd();
                throw new InvalidOperationException($"mosquitto exited at start: {reason?.Trim()}");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(20);
            }
        }

        throw new InvalidOperationException($"mosquitto did not listen on 127.0.0.1:{Port} within 10 s");
    }

    /// <summary>
    /// Whether something accepts TCP connections at a loopback host:port. A blocking connect: on
    /// loopback the kernel answers at once, and a timed wait on an async connect once said "no" on
    /// a loaded machine while the broker was there.
    /// </summary>
    public static bool AnswersOnLoopback(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(host, port);
            return client.Connected;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => Stop(graceful: false);
}
