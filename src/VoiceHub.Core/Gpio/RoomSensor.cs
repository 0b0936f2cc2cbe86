using System.ComponentModel.DataAnnotations;
using System.Device.I2c;
using Iot.Device.Bmxx80;
using Iot.Device.Bmxx80.PowerMode;
using Iot.Device.Sht3x;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Hub;

namespace VoiceHub.Core.Gpio;

/// <summary>An optional temperature/humidity sensor on I2C (section <c>gpio.roomSensor</c>), published to Home Assistant.</summary>
public sealed class RoomSensorOptions
{
    /// <summary>"sht3x" (Sensirion SHT30/31/35) or "bme280" (Bosch).</summary>
    [RegularExpression("^(sht3x|bme280)$")]
    public string Kind { get; set; } = "sht3x";

    [Range(0, 15)]
    public int I2cBus { get; set; } = 1;

    /// <summary>0: the part's usual address (0x44 for the SHT3x, 0x76 for the BME280).</summary>
    [Range(0, 0x7F)]
    public int Address { get; set; }

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    public int EffectiveAddress => Address != 0 ? Address : Kind == "bme280" ? Bme280.DefaultI2cAddress : (int)I2cAddress.AddrLow;
}

/// <summary>One reading of the room's air.</summary>
public sealed record RoomClimate(double TemperatureCelsius, double? HumidityPercent);

/// <summary>
/// Reads the room sensor through Iot.Device.Bindings every <see cref="RoomSensorOptions.Interval"/>
/// on a timer thread and hands each reading to <see cref="HubStatus"/>, which the Home Assistant
/// bridge publishes. A failed read is logged once until a read succeeds again.
/// </summary>
public sealed partial class RoomSensor : IDisposable
{
    private readonly Func<RoomClimate?> _read;
    private readonly IDisposable _device;
    private readonly RoomSensorOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private bool _failing;

    /// <param name="i2c">The sensor's I2C device; the sensor owns it from now on.</param>
    public RoomSensor(I2cDevice i2c, RoomSensorOptions options, ILogger logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        if (options.Kind == "bme280")
        {
            var bme = new Bme280(i2c) { TemperatureSampling = Sampling.Standard, HumiditySampling = Sampling.Standard, PressureSampling = Sampling.Skipped };
            _device = bme;
            _read = () =>
            {
                // Forced mode: one measurement per call, then the part sleeps.
                bme.SetPowerMode(Bmx280PowerMode.Forced);
                Thread.Sleep(bme.GetMeasurementDuration());
                return bme.TryReadTemperature(out var t) ? new RoomClimate(t.DegreesCelsius, bme.TryReadHumidity(out var h) ? h.Percent : null) : null;
            };
        }
        else
        {
            var sht = new Sht3x(i2c);
            _device = sht;
            _read = () =>
            {
                // Each property is one measurement. The driver answers a failed checksum with 0 for
                // both, which no real room reads (0 °C at exactly 0 % humidity): that is a failed read.
                var celsius = sht.Temperature.DegreesCelsius;
                var percent = sht.Humidity.Percent;
                return celsius == 0 && percent == 0 ? null : new RoomClimate(celsius, percent);
            };
        }
    }

    /// <summary>Opens the sensor on /dev/i2c-BUS.</summary>
    public static RoomSensor Open(RoomSensorOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RoomSensor(I2cDevice.Create(new I2cConnectionSettings(options.I2cBus, options.EffectiveAddress)), options, logger);
    }

    /// <summary>Reads now and then every interval, reporting to <paramref name="status"/>.</summary>
    public void Start(HubStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        _timer = _clock.CreateTimer(_ => ReadInto(status), null, TimeSpan.Zero, _options.Interval);
    }

    /// <summary>One reading into <paramref name="status"/>; false when the sensor did not answer.</summary>
    public bool ReadInto(HubStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        lock (_lock)
        {
            RoomClimate? reading;
            string? problem = null;
            try
            {
                reading = _read();
                problem = reading is null ? "no valid reading (checksum or timeout)" : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or TimeoutException)
            {
                reading = null;
                problem = e.Message;
            }

            if (reading is null)
            {
                if (!_failing)
                {
                    LogReadFailed(_logger, _options.Kind, _options.I2cBus, _options.EffectiveAddress, problem!);
                }

                _failing = true;
                return false;
            }

            _failing = false;
            status.SetRoomClimate(new RoomClimate(Math.Round(reading.TemperatureCelsius, 1), reading.HumidityPercent is { } h ? Math.Round(h, 1) : null));
            return true;
        }
    }

    public void Dispose()
    {
        _timer?.Dispose();
        lock (_lock)
        {
            _device.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room sensor {Kind} on I2C bus {Bus} address 0x{Address:x2} did not answer: {Problem}")]
    private static partial void LogReadFailed(ILogger logger, string kind, int bus, int address, string problem);
}
