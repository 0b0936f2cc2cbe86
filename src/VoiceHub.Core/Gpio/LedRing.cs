using System.ComponentModel.DataAnnotations;
using System.Device.Spi;
using System.Drawing;
using Iot.Device.Apa102;
using Microsoft.Extensions.Logging;
using VoiceHub.Core.Hub;

namespace VoiceHub.Core.Gpio;

/// <summary>
/// The APA102 LED ring of the ReSpeaker 2-mic (3 LEDs) and 4-mic (12 LEDs) HATs, on SPI
/// (section <c>gpio.ledRing</c>; absent: no ring).
/// </summary>
public sealed class LedRingOptions
{
    [Range(0, 15)]
    public int SpiBus { get; set; }

    /// <summary>The HATs wire the ring to chip select 1 (/dev/spidev0.1).</summary>
    [Range(0, 7)]
    public int ChipSelect { get; set; } = 1;

    [Range(1, 255)]
    public int Leds { get; set; } = 12;

    /// <summary>0 to 1 of full brightness (the LEDs sit close to the eye).</summary>
    [Range(0.0, 1.0)]
    public double Brightness { get; set; } = 0.3;

    [Range(100_000, 32_000_000)]
    public int ClockHz { get; set; } = 8_000_000;
}

/// <summary>What the ring shows, as a function of time since the show started; <paramref name="Moves"/>: it changes with time.</summary>
public sealed record RingShow(string Name, Func<int, int, TimeSpan, Color> Pixel, bool Moves = false)
{
    private static readonly Color s_blue = Color.FromArgb(0, 64, 255);
    private static readonly Color s_cyan = Color.FromArgb(0, 200, 255);
    private static readonly Color s_purple = Color.FromArgb(160, 0, 255);
    private static readonly Color s_green = Color.FromArgb(0, 255, 64);
    private static readonly Color s_red = Color.FromArgb(255, 0, 0);
    private static readonly Color s_amber = Color.FromArgb(255, 140, 0);

    public static readonly RingShow Off = new("off", (_, _, _) => Color.Black);

    /// <summary>Wake word heard: the whole ring lights.</summary>
    public static readonly RingShow Wake = new("wake", (_, _, _) => s_blue);

    /// <summary>Hearing the command.</summary>
    public static readonly RingShow Listening = new("listening", (_, _, _) => s_cyan);

    /// <summary>Transcribing, understanding, acting: one LED goes round, once a second.</summary>
    public static readonly RingShow Thinking = new("thinking", (led, count, t) => led == (int)(t.TotalSeconds * count) % count ? s_purple : Color.Black, Moves: true);

    /// <summary>Answering: the ring breathes green.</summary>
    public static readonly RingShow Speaking = new("speaking", (_, _, t) => Scale(s_green, 0.55 + (0.45 * Math.Cos(t.TotalSeconds * Math.PI * 2))), Moves: true);

    /// <summary>Microphone muted: steady dim red.</summary>
    public static readonly RingShow Muted = new("muted", (_, _, _) => Scale(s_red, 0.25));

    /// <summary>A stage failed: red, blinking three times a second.</summary>
    public static readonly RingShow Error = new("error", (_, _, t) => (int)(t.TotalMilliseconds / 167) % 2 == 0 ? s_red : Color.Black, Moves: true);

    /// <summary>A timer's alarm: the ring pulses amber, twice a second.</summary>
    public static readonly RingShow Ringing = new("ringing", (_, _, t) => Scale(s_amber, 0.5 + (0.5 * Math.Cos(t.TotalSeconds * Math.PI * 4))), Moves: true);

    public static RingShow ForState(PipelineState state, bool muted) => state switch
    {
        PipelineState.Error => Error,
        PipelineState.Ringing => Ringing,
        _ when muted => Muted,
        PipelineState.Woken => Wake,
        PipelineState.Hearing or PipelineState.FollowUp or PipelineState.Enrolling => Listening,
        PipelineState.Transcribing or PipelineState.Understanding or PipelineState.Acting => Thinking,
        PipelineState.Answering => Speaking,
        _ => Off,
    };

    internal static Color Scale(Color color, double factor) =>
        Color.FromArgb((int)Math.Round(color.R * factor), (int)Math.Round(color.G * factor), (int)Math.Round(color.B * factor));
}

/// <summary>
/// Shows the pipeline's state on an APA102 ring through Iot.Device.Bindings' <see cref="Apa102"/>:
/// it follows <see cref="HubStatus"/> and redraws on a timer while a show moves (a still one is sent once). SPI writes happen
/// on the timer's thread, never on the audio thread; a failing SPI device is logged once and the
/// ring is left dark, the rest of the hub runs on.
/// </summary>
public sealed partial class LedRing : IDisposable
{
    private static readonly TimeSpan s_frame = TimeSpan.FromMilliseconds(40);
    private readonly SpiDevice _spi;
    private readonly Apa102 _ring;
    private readonly LedRingOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private RingShow _show = RingShow.Off;
    private RingShow? _drawn; // a still show already on the ring is not sent again every frame
    private DateTimeOffset _showStart;
    private ITimer? _timer;
    private bool _failed;
    private bool _disposed;
    private HubStatus? _status;

    /// <param name="spi">The ring's SPI device; the ring owns it from now on.</param>
    public LedRing(SpiDevice spi, LedRingOptions options, ILogger logger, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        _spi = spi;
        _ring = new Apa102(spi, options.Leds);
    }

    /// <summary>Opens the ring on /dev/spidevBUS.CS.</summary>
    public static LedRing Open(LedRingOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var spi = SpiDevice.Create(new SpiConnectionSettings(options.SpiBus, options.ChipSelect) { ClockFrequency = options.ClockHz, Mode = SpiMode.Mode0 });
        return new LedRing(spi, options, logger);
    }

    /// <summary>The show on the ring now, for tests and the journal.</summary>
    public string Show
    {
        get
        {
            lock (_lock)
            {
                return _show.Name;
            }
        }
    }

    /// <summary>Follows the hub's state from now on.</summary>
    public void Follow(HubStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        _status = status;
        status.Changed += OnChanged;
        OnChanged(status.Snapshot);
        _timer = _clock.CreateTimer(_ => Draw(), null, s_frame, s_frame);
    }

    private void OnChanged(HubSnapshot snapshot)
    {
        lock (_lock)
        {
            var show = RingShow.ForState(snapshot.State, snapshot.Muted);
            if (show != _show)
            {
                _show = show;
                _showStart = _clock.GetUtcNow();
            }
        }

        Draw();
    }

    /// <summary>Draws the current show's frame for now.</summary>
    internal void Draw()
    {
        lock (_lock)
        {
            if (_failed || _disposed || (!_show.Moves && ReferenceEquals(_drawn, _show)))
            {
                return;
            }

            var elapsed = _clock.GetUtcNow() - _showStart;
            var pixels = _ring.Pixels;
            for (var i = 0; i < pixels.Length; i++)
            {
                var color = RingShow.Scale(_show.Pixel(i, pixels.Length, elapsed), _options.Brightness);
                // Full global brightness (alpha); the level is in the colour, which has 8 bits, not 5.
                pixels[i] = Color.FromArgb(255, color.R, color.G, color.B);
            }

            try
            {
                _ring.Flush();
                _drawn = _show;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                _failed = true;
                LogSpiFailed(_logger, _options.SpiBus, _options.ChipSelect, e.Message);
            }
        }
    }

    public void Dispose()
    {
        if (_status is not null)
        {
            _status.Changed -= OnChanged; // a change still queued for delivery must not draw on a closed bus
        }

        _timer?.Dispose();
        lock (_lock)
        {
            _ring.Pixels.Fill(Color.Black);
            if (!_failed)
            {
                try
                {
                    _ring.Flush(); // dark when the hub stops
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    LogSpiFailed(_logger, _options.SpiBus, _options.ChipSelect, e.Message);
                }
            }

            _disposed = true;
            _ring.Dispose();
            _spi.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "LED ring on /dev/spidev{Bus}.{ChipSelect} failed and stays dark: {Problem}")]
    private static partial void LogSpiFailed(ILogger logger, int bus, int chipSelect, string problem);
}
