using System.Device.Spi;
using System.Drawing;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.Hub;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Actuation;

/// <summary>The ReSpeaker LED ring through Iot.Device.Bindings' APA102 driver, on an SPI device that records the bytes sent.</summary>
public sealed class LedRingTests
{
    private static readonly LedRingOptions s_options = new() { Leds = 12, Brightness = 1.0 };

    [Fact]
    public async Task Each_state_is_sent_as_apa102_frames_in_its_colour()
    {
        var spi = new RecordingSpiDevice();
        using var status = new HubStatus();
        using var ring = new LedRing(spi, s_options, new RecordingLogger(), new ManualClock());
        ring.Follow(status);

        status.SetState(PipelineState.Listening);
        await status.DeliveredAsync();
        Assert.All(spi.LastFrame(12), c => Assert.Equal(Color.FromArgb(0, 0, 0), c));
        status.SetState(PipelineState.Woken);
        await status.DeliveredAsync();
        Assert.Equal("wake", ring.Show);
        Assert.All(spi.LastFrame(12), c => Assert.Equal(Color.FromArgb(0, 64, 255), c));
        status.SetState(PipelineState.Hearing);
        await status.DeliveredAsync();
        Assert.All(spi.LastFrame(12), c => Assert.Equal(Color.FromArgb(0, 200, 255), c));
        status.SetMuted(true);
        await status.DeliveredAsync();
        Assert.Equal("muted", ring.Show);
        Assert.All(spi.LastFrame(12), c => Assert.Equal(Color.FromArgb(64, 0, 0), c));
        status.SetState(PipelineState.Ringing);
        await status.DeliveredAsync();
        Assert.Equal("ringing", ring.Show); // a timer's alarm shows on a muted hub too
    }

    [Fact]
    public async Task Thinking_moves_one_led_round_the_ring_once_a_second()
    {
        var spi = new RecordingSpiDevice();
        var clock = new ManualClock();
        using var status = new HubStatus();
        using var ring = new LedRing(spi, s_options, new RecordingLogger(), clock);
        ring.Follow(status);

        status.SetState(PipelineState.Transcribing);
        await status.DeliveredAsync();
        clock.Advance(TimeSpan.FromSeconds(1.0 / 24)); // sample each LED's slot in its middle
        var lit = new List<int>();
        for (var step = 0; step < 12; step++)
        {
            ring.Draw();
            var frame = spi.LastFrame(12);
            lit.Add(Assert.Single(Enumerable.Range(0, 12), i => frame[i] != Color.FromArgb(0, 0, 0)));
            clock.Advance(TimeSpan.FromSeconds(1.0 / 12));
        }

        Assert.Equal(Enumerable.Range(0, 12), lit);
    }

    [Fact]
    public async Task A_still_show_is_sent_once_and_a_moving_one_every_frame()
    {
        var spi = new RecordingSpiDevice();
        using var status = new HubStatus();
        using var ring = new LedRing(spi, s_options, new RecordingLogger(), new ManualClock());
        ring.Follow(status);
        status.SetState(PipelineState.Woken);
        await status.DeliveredAsync();

        var afterWake = spi.WriteCount;
        ring.Draw();
        ring.Draw();
        Assert.Equal(afterWake, spi.WriteCount); // the idle ring does not keep the SPI bus busy

        status.SetState(PipelineState.Transcribing);
        await status.DeliveredAsync();
        var afterThinking = spi.WriteCount;
        ring.Draw();
        Assert.True(spi.WriteCount > afterThinking);
    }

    [Fact]
    public async Task Brightness_scales_the_colour_and_the_ring_goes_dark_when_the_hub_stops()
    {
        var spi = new RecordingSpiDevice();
        using var status = new HubStatus();
        using (var ring = new LedRing(spi, new LedRingOptions { Leds = 3, Brightness = 0.5 }, new RecordingLogger(), new ManualClock()))
        {
            ring.Follow(status);
            status.SetState(PipelineState.Woken);
            await status.DeliveredAsync();
            Assert.All(spi.LastFrame(3), c => Assert.Equal(Color.FromArgb(0, 32, 128), c));
        }

        Assert.All(spi.LastFrame(3), c => Assert.Equal(Color.FromArgb(0, 0, 0), c));
        Assert.True(spi.Disposed);
    }

    [Fact]
    public async Task A_failing_spi_device_is_logged_once_and_the_ring_stays_dark()
    {
        var spi = new RecordingSpiDevice { Fail = true };
        var log = new RecordingLogger();
        using var status = new HubStatus();
        using var ring = new LedRing(spi, s_options, log, new ManualClock());

        ring.Follow(status);
        status.SetState(PipelineState.Woken);
        await status.DeliveredAsync();
        ring.Draw();

        Assert.Contains("spidev0.1", Assert.Single(log.Warnings), StringComparison.Ordinal);
    }

    /// <summary>An SPI device that keeps every write; <see cref="LastFrame"/> decodes the last APA102 frame.</summary>
    private sealed class RecordingSpiDevice : SpiDevice
    {
        private readonly List<byte[]> _writes = [];

        public bool Fail { get; init; }

        public bool Disposed { get; private set; }

        public int WriteCount
        {
            get
            {
                lock (_writes)
                {
                    return _writes.Count;
                }
            }
        }

        public override SpiConnectionSettings ConnectionSettings { get; } = new(0, 1);

        /// <summary>The colours of the last frame: a 4-byte zero start frame, then per LED 0xE0|brightness, blue, green, red.</summary>
        public Color[] LastFrame(int leds)
        {
            byte[] bytes;
            lock (_writes)
            {
                bytes = [.. _writes.SelectMany(w => w)];
            }

            var start = LastStartFrame(bytes, leds);
            var colors = new Color[leds];
            for (var i = 0; i < leds; i++)
            {
                var o = start + 4 + (i * 4);
                Assert.Equal(0xFF, bytes[o]); // full 5-bit global brightness: the level is in the colour
                colors[i] = Color.FromArgb(bytes[o + 3], bytes[o + 2], bytes[o + 1]);
            }

            return colors;
        }

        private static int LastStartFrame(byte[] bytes, int leds)
        {
            for (var s = bytes.Length - 4 - (leds * 4); s >= 0; s--)
            {
                if (bytes[s] == 0 && bytes[s + 1] == 0 && bytes[s + 2] == 0 && bytes[s + 3] == 0 && (bytes[s + 4] & 0xE0) == 0xE0)
                {
                    return s;
                }
            }

            throw new InvalidOperationException("no APA102 frame was written");
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Fail)
            {
                throw new IOException("/dev/spidev0.1: no such device");
            }

            lock (_writes)
            {
                _writes.Add(buffer.ToArray());
            }
        }

        public override void Read(Span<byte> buffer) => throw new NotSupportedException();

        public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => Write(writeBuffer);

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
