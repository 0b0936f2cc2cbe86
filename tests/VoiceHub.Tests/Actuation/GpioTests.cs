using System.Device.Gpio;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.Hub;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Actuation;

/// <summary>
/// GPIO through System.Device.Gpio: its libgpiod driver as far as this machine allows (no GPIO chip
/// here), a fake <see cref="System.Device.Gpio.GpioDriver"/> for what the hub does with lines, and
/// the in-memory chip the demo uses, behind the same interface.
/// </summary>
public sealed class GpioTests
{
    private static Entity Relay(string id, int line, bool activeLow = false, string chip = "simulated") =>
        new(id, id, null, [], null, new Dictionary<string, object?>(), Gpio: new GpioBinding(chip, line, activeLow));

    [Fact]
    public void The_libgpiod_driver_is_installed_and_a_missing_chip_is_reported_clearly()
    {
        Assert.StartsWith("libgpiod.so.2 ", GpioChips.LibraryVersion, StringComparison.Ordinal); // bookworm's libgpiod 1.6

        var error = Assert.Throws<GpioException>(() => GpioChips.Open("gpiochip0"));

        Assert.StartsWith("/dev/gpiochip0: no such GPIO chip", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_GPIO_chip_is_refused_before_a_driver_opens_it()
    {
        var error = Assert.Throws<GpioException>(() => GpioChips.Open("/dev/null"));

        Assert.StartsWith("/dev/null: not a usable GPIO chip", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Relays_on_a_gpio_driver_are_driven_with_active_low_handled_in_our_layer_and_released()
    {
        var driver = new FakeGpioDriver();
        using (var gpio = new GpioHub(new GpioOptions(), new RecordingLogger(), name => new ControllerGpioChip(name, driver)))
        {
            gpio.Start([Relay("switch.pump", 4, chip: "gpiochip0"), Relay("light.porch", 5, activeLow: true, chip: "gpiochip0")], new HubStatus());
            Assert.Equal(PinMode.Output, driver.ModeOf(4));
            Assert.Equal(PinValue.Low, driver.LevelOf(4));
            Assert.Equal(PinValue.High, driver.LevelOf(5)); // active-low and off: the line sits high
            Assert.Equal(PinValue.High, driver.Writes.First(w => w.Pin == 5).Value); // from its first write: no glitch to "on"

            Assert.True(gpio.SetOutput("switch.pump", true));
            Assert.True(gpio.SetOutput("light.porch", true));

            Assert.Equal(PinValue.High, driver.LevelOf(4));
            Assert.Equal(PinValue.Low, driver.LevelOf(5));
            Assert.Equal(true, gpio.OutputState("light.porch"));
        }

        Assert.Empty(driver.OpenPins); // given back on exit
    }

    [Fact]
    public void A_bouncing_button_on_a_gpio_driver_counts_once_with_its_pull_up_set()
    {
        var driver = new FakeGpioDriver();
        driver.SetInput(7, PinValue.High); // pulled up, not pressed
        var options = new GpioOptions { MuteButton = new GpioLineOptions { Chip = "gpiochip0", Line = 7, ActiveLow = true, Bias = GpioBias.PullUp }, Debounce = TimeSpan.FromMilliseconds(30) };
        using var gpio = new GpioHub(options, new RecordingLogger(), name => new ControllerGpioChip(name, driver));
        var presses = 0;
        gpio.MutePressed += () => Interlocked.Increment(ref presses);
        var released = new ManualResetEventSlim();
        gpio.ButtonSettled += (_, pressed) =>
        {
            if (!pressed)
            {
                released.Set();
            }
        };
        gpio.Start([], new HubStatus());
        Assert.Equal(PinMode.InputPullUp, driver.ModeOf(7));

        foreach (var level in new[] { PinValue.Low, PinValue.High, PinValue.Low, PinValue.High, PinValue.Low })
        {
            driver.SetInput(7, level);
        }

        // Waits for the press instead of a fixed time: a loaded machine may schedule the watcher late.
        SpinWait.SpinUntil(() => Volatile.Read(ref presses) > 0, TimeSpan.FromSeconds(10));
        released.Reset();
        driver.SetInput(7, PinValue.High); // released
        Assert.True(released.Wait(TimeSpan.FromSeconds(10))); // the watcher has settled the release: any second press would have counted by now

        Assert.Equal(1, presses);
    }

    [Fact]
    public void A_line_the_chip_does_not_have_is_one_problem_naming_the_entity()
    {
        var driver = new FakeGpioDriver(pinCount: 8);
        using var gpio = new GpioHub(new GpioOptions(), new RecordingLogger(), name => new ControllerGpioChip(name, driver));

        gpio.Start([Relay("switch.pump", 40, chip: "gpiochip0")], new HubStatus());

        Assert.Contains("switch.pump (gpiochip0 line 40): gpiochip0 line 40: the chip has lines 0 to 7", Assert.Single(gpio.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_chip_leaves_the_hub_running_with_one_clear_problem()
    {
        var log = new RecordingLogger();
        using var gpio = new GpioHub(new GpioOptions(), log, name => GpioChips.Open(name));
        var relay = new Entity("switch.pump", "Pump", null, [], null, new Dictionary<string, object?>(), Gpio: new GpioBinding("gpiochip0", 17, false));

        gpio.Start([relay], new HubStatus());

        Assert.False(gpio.SetOutput("switch.pump", true));
        var problem = Assert.Single(gpio.Problems);
        Assert.Contains("switch.pump (gpiochip0 line 17)", problem, StringComparison.Ordinal);
        Assert.Contains("no such GPIO chip", problem, StringComparison.Ordinal);
        Assert.Single(log.Warnings);
    }

    [Fact]
    public void Entity_outputs_are_claimed_under_the_consumer_name_driven_and_released()
    {
        var chip = new SimulatedGpioChip();
        using (var gpio = new GpioHub(new GpioOptions { Consumer = "voicehub-test" }, new RecordingLogger(), _ => chip))
        {
            gpio.Start([Relay("switch.pump", 4), Relay("light.porch", 5, activeLow: true)], new HubStatus());
            Assert.Equal("voicehub-test", chip.ConsumerOf(4));
            Assert.True(chip.PhysicalLevel(5)); // active-low and off: the line sits high

            Assert.True(gpio.SetOutput("switch.pump", true));
            Assert.True(gpio.SetOutput("light.porch", true));

            Assert.True(chip.PhysicalLevel(4));
            Assert.False(chip.PhysicalLevel(5));
            Assert.Equal(true, gpio.OutputState("light.porch"));
        }

        Assert.Null(chip.ConsumerOf(4)); // given back on exit
        Assert.Null(chip.ConsumerOf(5));
    }

    [Fact]
    public void A_line_already_in_use_is_reported_with_its_holder()
    {
        var chip = new SimulatedGpioChip();
        using var other = chip.RequestOutput(4, "some-other-daemon", false, false);
        using var gpio = new GpioHub(new GpioOptions(), new RecordingLogger(), _ => chip);

        gpio.Start([Relay("switch.pump", 4)], new HubStatus());

        Assert.Contains("simulated line 4: already in use by 'some-other-daemon'", Assert.Single(gpio.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void A_bouncing_button_press_counts_once()
    {
        var chip = new SimulatedGpioChip();
        var options = new GpioOptions { MuteButton = new GpioLineOptions { Chip = "simulated", Line = 7, ActiveLow = true, Bias = GpioBias.PullUp }, Debounce = TimeSpan.FromMilliseconds(30) };
        using var gpio = new GpioHub(options, new RecordingLogger(), _ => chip);
        var presses = 0;
        gpio.MutePressed += () => Interlocked.Increment(ref presses);
        var released = new ManualResetEventSlim();
        gpio.ButtonSettled += (_, pressed) =>
        {
            if (!pressed)
            {
                released.Set();
            }
        };
        gpio.Start([], new HubStatus());

        // Contacts bounce: a few flips within microseconds before settling low (pressed, active-low).
        foreach (var level in new[] { false, true, false, true, false })
        {
            chip.SetInput(7, level);
        }

        SpinWait.SpinUntil(() => Volatile.Read(ref presses) > 0, TimeSpan.FromSeconds(10));
        released.Reset();
        chip.SetInput(7, true); // released
        Assert.True(released.Wait(TimeSpan.FromSeconds(10))); // the watcher has settled the release: any second press would have counted by now

        Assert.Equal(1, presses);
    }

    [Fact]
    public async Task The_status_LED_follows_the_pipeline_and_the_mute_LED_the_mute()
    {
        var chip = new SimulatedGpioChip();
        using var status = new HubStatus();
        var options = new GpioOptions
        {
            StatusLed = new GpioLineOptions { Chip = "simulated", Line = 1 },
            MuteLed = new GpioLineOptions { Chip = "simulated", Line = 2 },
        };
        using var gpio = new GpioHub(options, new RecordingLogger(), _ => chip);
        gpio.Start([], status);

        status.SetState(PipelineState.Listening);
        await status.DeliveredAsync();
        Assert.Equal("off", gpio.StatusPattern);
        Assert.False(chip.PhysicalLevel(1));
        status.SetState(PipelineState.Woken);
        await status.DeliveredAsync();
        Assert.Equal("on", gpio.StatusPattern);
        Assert.True(chip.PhysicalLevel(1));
        status.SetState(PipelineState.Transcribing);
        await status.DeliveredAsync();
        Assert.Equal("busy", gpio.StatusPattern);
        status.SetMuted(true);
        await status.DeliveredAsync();
        Assert.True(chip.PhysicalLevel(2));
        status.SetState(PipelineState.Listening);
        await status.DeliveredAsync();
        Assert.Equal("heartbeat", gpio.StatusPattern);
    }

    [Fact]
    public void Blink_patterns_are_periodic_and_alarms_end_dark()
    {
        Assert.True(LedPattern.Busy.IsLit(TimeSpan.FromMilliseconds(50)));
        Assert.False(LedPattern.Busy.IsLit(TimeSpan.FromMilliseconds(150)));
        Assert.True(LedPattern.Busy.IsLit(TimeSpan.FromMilliseconds(1050)));
        Assert.True(LedPattern.Alarm.IsLit(TimeSpan.FromMilliseconds(320)));
        Assert.False(LedPattern.Alarm.IsLit(TimeSpan.FromSeconds(5)));
        Assert.False(LedPattern.Dark.IsLit(TimeSpan.FromSeconds(3)));
        Assert.True(LedPattern.Lit.IsLit(TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void The_simulated_chip_refuses_lines_it_does_not_have()
    {
        using var chip = new SimulatedGpioChip(lineCount: 8);

        var error = Assert.Throws<GpioException>(() => chip.RequestOutput(8, "x", false, false));

        Assert.Equal("simulated line 8: the chip has lines 0 to 7", error.Message);
    }
}
