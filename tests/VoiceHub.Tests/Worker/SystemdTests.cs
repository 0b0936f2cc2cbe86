using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using VoiceHub.Core.Hosting;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>The service unit as systemd reads it, and our sd_notify datagrams as systemd receives them.</summary>
[Trait("needs", "root")]
[Trait("needs", "native")]
public sealed class SystemdTests : IDisposable
{
    private static readonly string s_unit = Path.Combine(TestPaths.Root, "systemd", "voicehub.service");
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A datagram socket where systemd's would be; returns it bound to <paramref name="path"/>.</summary>
    internal static Socket NotifySocket(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 20_000;
        return socket;
    }

    internal static string Receive(Socket socket)
    {
        var buffer = new byte[4096];
        return Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer));
    }

    [Fact]
    public async Task Systemd_analyze_verify_accepts_the_unit_without_a_warning()
    {
        // verify insists ExecStart's program exists: point it at a stand-in, keep everything else.
        var standIn = _dir.File("voicehub");
        File.WriteAllText(standIn, "#!/bin/sh\n");
        File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var unit = _dir.File("voicehub.service");
        File.WriteAllText(unit, File.ReadAllText(s_unit).Replace("ExecStart=/usr/bin/voicehub ", $"ExecStart={standIn} ", StringComparison.Ordinal));

        using var process = Process.Start(new ProcessStartInfo("systemd-analyze") { ArgumentList = { "verify", unit }, RedirectStandardError = true, RedirectStandardOutput = true })!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var warnings = await errors;

        Assert.True(process.ExitCode == 0 && warnings.Length == 0, $"exit {process.ExitCode}: {warnings}{output}");
    }

    [Fact]
    public void The_unit_is_a_hardened_notify_service_with_a_watchdog_on_its_own_user()
    {
        var settings = File.ReadAllLines(s_unit).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#')).Select(l => l.Trim()).ToHashSet();

        foreach (var required in new[]
        {
            "Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "Restart=on-failure", "User=voicehub", "SupplementaryGroups=audio gpio",
            "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes", "DevicePolicy=closed",
            "DeviceAllow=char-alsa rw", "DeviceAllow=char-gpiochip rw", "ReadWritePaths=/var/lib/voicehub",
            "ExecStart=/usr/bin/voicehub run --config /etc/voicehub/config.yaml",
        })
        {
            Assert.Contains(required, settings);
        }
    }

    [Fact]
    public void Ready_status_watchdog_and_stopping_arrive_as_datagrams_on_the_notify_socket()
    {
        var path = _dir.File("notify");
        using var systemd = NotifySocket(path);
        using var notifier = new SystemdNotifier(path, watchdogMicroseconds: "30000000", watchdogProcess: Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

        notifier.Ready("listening");
        notifier.Watchdog();
        notifier.Status("hearing");
        notifier.Stopping();

        Assert.Equal(["READY=1\nSTATUS=listening", "WATCHDOG=1", "STATUS=hearing", "STOPPING=1\nSTATUS=stopping"], Enumerable.Range(0, 4).Select(_ => Receive(systemd)));
        Assert.Equal(TimeSpan.FromSeconds(30), notifier.WatchdogInterval);
    }

    [Fact]
    public void Work_before_ready_asks_systemd_for_more_start_time_again_and_again_until_it_is_done()
    {
        var path = _dir.File("notify");
        using var systemd = NotifySocket(path);
        using var notifier = new SystemdNotifier(path);

        using (notifier.KeepStarting("training", TimeSpan.FromMilliseconds(100)))
        {
            Assert.Equal("EXTEND_TIMEOUT_USEC=300000\nSTATUS=training", Receive(systemd));
            Assert.Equal("EXTEND_TIMEOUT_USEC=300000\nSTATUS=training", Receive(systemd));
        }

        while (systemd.Available > 0)
        {
            _ = Receive(systemd); // sent before it was done
        }

        systemd.ReceiveTimeout = 500; // none after it is done, not even one a timer had already queued
        Assert.Throws<SocketException>(() => Receive(systemd));
        notifier.Dispose();
        notifier.Status("stopped"); // a timer's request after the socket closed is dropped, not thrown on a pool thread
    }

    [Fact]
    public void Training_a_phrases_model_at_start_asks_systemd_for_more_start_time()
    {
        var path = _dir.File("notify");
        using var systemd = NotifySocket(path);
        using var notifier = new SystemdNotifier(path);
        using var stopped = new CancellationTokenSource();
        stopped.Cancel(); // the training is told, then given up at once
        var models = new VoiceHub.Core.Models.ModelsOptions { Directory = _dir.Path };

        Assert.ThrowsAny<OperationCanceledException>(() => new VoiceHub.Core.Wake.WakeStage(true, new VoiceHub.Core.Wake.WakeOptions { Phrases = [new VoiceHub.Core.Wake.WakePhrase { Phrase = "hey pantry" }] },
            models, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, startup: notifier, stopping: stopped.Token));

        Assert.StartsWith("EXTEND_TIMEOUT_USEC=90000000\nSTATUS=training", Receive(systemd));
    }

    [Fact]
    public void An_abstract_notify_socket_is_reached_by_its_at_sign_name()
    {
        var name = $"voicehub-test-{Guid.NewGuid():N}";
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint("\0" + name));
        systemd.ReceiveTimeout = 20_000;
        using var notifier = new SystemdNotifier("@" + name);

        notifier.Ready("ok");

        Assert.Equal("READY=1\nSTATUS=ok", Receive(systemd));
    }

    [Fact]
    public void A_watchdog_meant_for_another_process_is_ignored_and_no_socket_means_silence()
    {
        using var other = new SystemdNotifier(notifySocket: string.Empty, watchdogMicroseconds: "30000000", watchdogProcess: "1");

        Assert.Null(other.WatchdogInterval);
        Assert.False(other.IsActive);
        other.Ready("nobody listens"); // must not throw
    }
}
