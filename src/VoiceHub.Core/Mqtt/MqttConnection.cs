using Microsoft.Extensions.Logging;
using VoiceHub.Core.Configuration;

namespace VoiceHub.Core.Mqtt;

/// <summary>
/// The hub's MQTT connection: the configured broker, or (when nothing answers on localhost) a private
/// mosquitto on a free loopback port, with the outbox in the state directory unless configured.
/// Disposing flushes the bus (what is undelivered goes to the outbox), then stops the private broker.
/// </summary>
public sealed class MqttConnection : IAsyncDisposable
{
    private readonly MosquittoBroker? _broker;

    /// <param name="announce">Told which broker the hub uses (the CLI prints it).</param>
    public MqttConnection(MqttOptions configured, string stateDirectory, ILoggerFactory loggers, Action<string>? announce = null)
    {
        ArgumentNullException.ThrowIfNull(configured);
        ArgumentNullException.ThrowIfNull(loggers);
        var options = configured.Clone();
        var local = options.Host is "localhost" or "127.0.0.1" or "::1";
        if (local && options.StartPrivateBroker && !MosquittoBroker.AnswersOnLoopback(options.Host, options.Port))
        {
            _broker = MosquittoBroker.Start(Path.Combine(stateDirectory, "mosquitto"));
            options.Host = "127.0.0.1";
            options.Port = _broker.Port;
            announce?.Invoke($"no MQTT broker on {configured.Host}:{configured.Port}; started a private mosquitto on 127.0.0.1:{_broker.Port}");
        }
        else
        {
            announce?.Invoke($"MQTT broker {options.Host}:{options.Port}");
        }

        if (options.OutboxFile.Length == 0)
        {
            options.OutboxFile = Path.Combine(stateDirectory, "outbox.jsonl");
        }

        Options = options;
        Bus = new MqttBus(options, loggers.CreateLogger("VoiceHub.Mqtt"));
        Bus.Start();
    }

    /// <summary>The options the bus runs with (the private broker's port, the outbox's path).</summary>
    public MqttOptions Options { get; }

    public MqttBus Bus { get; }

    public async ValueTask DisposeAsync()
    {
        await Bus.DisposeAsync().ConfigureAwait(false);
        _broker?.Dispose();
    }
}
