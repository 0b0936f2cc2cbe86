using System.Device.I2c;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.Hub;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Actuation;

/// <summary>The room sensor through Iot.Device.Bindings' SHT3x driver, on an I2C device that answers as the part does.</summary>
public sealed class RoomSensorTests
{
    [Fact]
    public void An_sht3x_reading_reaches_the_hub_status_in_celsius_and_percent()
    {
        var i2c = new FakeSht3x(celsius: 22.5, percent: 45.0);
        using var status = new HubStatus();
        using var sensor = new RoomSensor(i2c, new RoomSensorOptions { Kind = "sht3x" }, new RecordingLogger());

        Assert.True(sensor.ReadInto(status));

        Assert.Equal(new RoomClimate(22.5, 45.0), status.Snapshot.Room);
        Assert.Contains(i2c.Commands, c => c[0] is 0x24 or 0x2C); // a single-shot measurement was asked for
    }

    [Fact]
    public void A_corrupted_reading_is_dropped_logged_once_and_the_next_good_one_is_taken()
    {
        var i2c = new FakeSht3x(celsius: 21.0, percent: 40.0) { CorruptChecksum = true };
        using var status = new HubStatus();
        var log = new RecordingLogger();
        using var sensor = new RoomSensor(i2c, new RoomSensorOptions { Kind = "sht3x", I2cBus = 1 }, log);

        Assert.False(sensor.ReadInto(status));
        Assert.False(sensor.ReadInto(status));
        i2c.CorruptChecksum = false;
        Assert.True(sensor.ReadInto(status));

        Assert.Contains("sht3x on I2C bus 1 address 0x44", Assert.Single(log.Warnings), StringComparison.Ordinal);
        Assert.Equal(21.0, status.Snapshot.Room!.TemperatureCelsius);
    }

    /// <summary>An SHT3x: a 2-byte command, then 6 bytes (temperature, CRC, humidity, CRC) as the datasheet encodes them.</summary>
    private sealed class FakeSht3x(double celsius, double percent) : I2cDevice
    {
        private readonly List<byte[]> _commands = [];

        public bool CorruptChecksum { get; set; }

        public IReadOnlyList<byte[]> Commands => _commands;

        public override I2cConnectionSettings ConnectionSettings { get; } = new(1, 0x44);

        public override void Write(ReadOnlySpan<byte> buffer) => _commands.Add(buffer.ToArray());

        public override void WriteByte(byte value) => _commands.Add([value]);

        public override byte ReadByte() => 0;

        public override void Read(Span<byte> buffer)
        {
            var t = (ushort)Math.Round((celsius + 45) / 175 * 65535);
            var h = (ushort)Math.Round(percent / 100 * 65535);
            byte[] data = [(byte)(t >> 8), (byte)t, 0, (byte)(h >> 8), (byte)h, 0];
            data[2] = Crc(data.AsSpan(0, 2));
            data[5] = (byte)(Crc(data.AsSpan(3, 2)) ^ (CorruptChecksum ? 0x5A : 0));
            data[2] ^= (byte)(CorruptChecksum ? 0x5A : 0);
            data.AsSpan(0, Math.Min(buffer.Length, data.Length)).CopyTo(buffer);
        }

        public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
        {
            Write(writeBuffer);
            Read(readBuffer);
        }

        /// <summary>CRC-8, polynomial 0x31, initial 0xFF (Sensirion).</summary>
        private static byte Crc(ReadOnlySpan<byte> bytes)
        {
            byte crc = 0xFF;
            foreach (var b in bytes)
            {
                crc ^= b;
                for (var bit = 0; bit < 8; bit++)
                {
                    crc = (byte)((crc & 0x80) != 0 ? (crc << 1) ^ 0x31 : crc << 1);
                }
            }

            return crc;
        }
    }
}
