using Microsoft.Extensions.Logging;
using VoiceHub.Core.Hub;

namespace VoiceHub.Core.Gpio;

/// <summary>
/// The optional add-ons the configuration names: an LED ring (SPI) that shows the hub's state and a
/// room sensor (I2C) whose readings join the hub's status. A board without one is one warning, not a
/// failure: the hub runs on without it.
/// </summary>
public sealed partial class AddOnBoards(GpioOptions options, HubStatus status, ILoggerFactory loggers) : IDisposable
{
    private LedRing? _ring;
    private RoomSensor? _sensor;

    /// <summary>Whether a room sensor reports temperature and humidity.</summary>
    public bool HasRoomSensor => _sensor is not null;

    public void Start()
    {
        if (options.LedRing is { } ring)
        {
            var logger = loggers.CreateLogger("VoiceHub.LedRing");
            _ring = Open(() => LedRing.Open(ring, logger), problem => LogRingUnavailable(logger, ring.SpiBus, ring.ChipSelect, problem));
            _ring?.Follow(status);
        }

        if (options.RoomSensor is { } sensor)
        {
            var logger = loggers.CreateLogger("VoiceHub.RoomSensor");
            _sensor = Open(() => RoomSensor.Open(sensor, logger), problem => LogSensorUnavailable(logger, sensor.Kind, sensor.I2cBus, problem));
            _sensor?.Start(status);
        }
    }

    private static T? Open<T>(Func<T> open, Action<string> unavailable)
        where T : class
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException or InvalidOperationException)
        {
            unavailable(e.Message);
            return null;
        }
    }

    public void Dispose()
    {
        _sensor?.Dispose();
        _ring?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No LED ring: /dev/spidev{Bus}.{ChipSelect} could not be opened ({Problem}); enable SPI (dtparam=spi=on) or remove gpio.ledRing")]
    private static partial void LogRingUnavailable(ILogger logger, int bus, int chipSelect, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No room sensor: {Kind} on /dev/i2c-{Bus} could not be opened ({Problem}); enable I2C (dtparam=i2c_arm=on) or remove gpio.roomSensor")]
    private static partial void LogSensorUnavailable(ILogger logger, string kind, int bus, string problem);
}
