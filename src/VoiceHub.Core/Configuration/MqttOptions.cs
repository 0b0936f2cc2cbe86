using System.ComponentModel.DataAnnotations;

namespace VoiceHub.Core.Configuration;

/// <summary>The MQTT broker the hub talks to (section <c>mqtt</c>).</summary>
public sealed class MqttOptions
{
    public const string Section = "mqtt";

    /// <summary>Broker host name or address; empty starts a private broker (see <see cref="StartPrivateBroker"/>).</summary>
    public string Host { get; set; } = "localhost";

    [Range(1, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>When no broker answers on <see cref="Host"/>, start mosquitto on a free loopback port.</summary>
    public bool StartPrivateBroker { get; set; } = true;
}
