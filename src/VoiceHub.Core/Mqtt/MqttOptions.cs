using System.ComponentModel.DataAnnotations;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;

namespace VoiceHub.Core.Mqtt;

/// <summary>The MQTT broker the hub talks to (section <c>mqtt</c>).</summary>
public sealed class MqttOptions
{
    public const string Section = "mqtt";

    /// <summary>Broker host name or address.</summary>
    [Required]
    public string Host { get; set; } = "localhost";

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>5 (MQTT 5) or 4 (MQTT 3.1.1).</summary>
    [Range(4, 5)]
    public int ProtocolVersion { get; set; } = 5;

    /// <summary>This hub's id in topics and in Home Assistant (<c>voicehub/&lt;hub_id&gt;/...</c>).</summary>
    [Required]
    [RegularExpression("^[a-zA-Z0-9_-]+$", ErrorMessage = "hubId may only contain letters, digits, '_' and '-'")]
    public string HubId { get; set; } = "voicehub";

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>CA certificate (PEM) for TLS; empty connects without TLS.</summary>
    public string? CaFile { get; set; }

    public string? CertificateFile { get; set; }

    public string? KeyFile { get; set; }

    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Home Assistant's discovery prefix.</summary>
    public string DiscoveryPrefix { get; set; } = "homeassistant";

    /// <summary>
    /// QoS of device commands. 2 (the default) delivers each command to the broker exactly once,
    /// also across broker restarts, through the hub's persistent session; 1 is at least once: a
    /// broker restart can repeat a command that was in flight.
    /// </summary>
    [Range(1, 2)]
    public int CommandQos { get; set; } = 2;

    /// <summary>A command not delivered within this time is dropped and reported (a light must not switch on hours later).</summary>
    public TimeSpan CommandExpiry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where undelivered commands are kept across a restart.</summary>
    public string OutboxFile { get; set; } = string.Empty;

    /// <summary>Discovery payloads larger than this are ignored (with a warning).</summary>
    [Range(1024, 1048576)]
    public int MaxDiscoveryPayloadBytes { get; set; } = 65536;

    /// <summary>Most entities discovery may add to the home; configs past it are ignored with a warning (a runaway bridge must not take the board's memory).</summary>
    [Range(1, 100000)]
    public int MaxDiscoveredEntities { get; set; } = 10000;

    /// <summary>Discovery changes within this window become one new home (one grammar rebuild), not one per config.</summary>
    public TimeSpan DiscoveryCoalescing { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>When no broker answers on <see cref="Host"/>, start mosquitto on a free loopback port.</summary>
    public bool StartPrivateBroker { get; set; } = true;

    /// <summary>A copy (every setting, so one added later is not dropped) for the hub to adjust.</summary>
    public MqttOptions Clone() => (MqttOptions)MemberwiseClone();
}
