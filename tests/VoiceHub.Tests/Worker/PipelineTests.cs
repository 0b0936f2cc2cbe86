using Microsoft.Extensions.Logging.Abstractions;
using VoiceHub.Core.Actuation;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Devices;
using VoiceHub.Core.Dialog;
using VoiceHub.Core.Gpio;
using VoiceHub.Core.Hub;
using VoiceHub.Core.Intents;
using VoiceHub.Core.Intents.Slm;
using VoiceHub.Core.Models;
using VoiceHub.Core.Pipeline;
using VoiceHub.Core.Speech;
using VoiceHub.Core.Thermal;
using VoiceHub.Core.Wake;
using VoiceHub.Core.Wake.Neural;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>The conversation state machine over real audio, the pocketsphinx engines and the demo home.</summary>
[Trait("needs", "native")]
public sealed class PipelineTests : IDisposable
{
    private static readonly Lazy<IntentSet> s_intents = new(() => IntentSet.Load(Path.Combine(TestPaths.Root, "intents", "en")));
    private static readonly Lazy<float[]> s_kitchenLightOn = new(() => AudioFile.ReadMono16k(TestPaths.Fixture("turn-on-the-kitchen-light.wav")));

    // espeak-ng's voice scores far below real speech against the phone loop (-0.5 to -1.7 per frame
    // where people score about 0): these tests are about the conversation, not the rejection.
    private static readonly PocketsphinxEngineOptions s_acceptSyntheticVoice = new() { RejectionThreshold = -3 };

    private readonly RecordingSpeaker _speaker = new();
    private readonly HubStatus _status = new();
    private readonly TimerService _timers = new();
    private readonly GpioHub _gpio = new(new GpioOptions(), NullLogger.Instance);
    private readonly ModelSets _models;
    // The demo home, with the kitchen light on a relay of the simulated GPIO chip.
    private readonly DeviceRegistry _registry = DevicesFile.Parse("devices.yaml", File.ReadAllText(Path.Combine(TestPaths.Root, "src", "VoiceHub.App", "demo", "devices.yaml"))
        .Replace("mqtt: { command_topic: \"zigbee2mqtt/Kitchen light/set\", state_topic: \"zigbee2mqtt/Kitchen light\", schema: json, brightness_scale: \"254\" }", "gpio: { chip: simulated, line: 5 }", StringComparison.Ordinal));
    private readonly List<UtteranceTrace> _traces = [];
    private readonly RecordingLogger _log = new();

    public PipelineTests()
    {
        var scheduler = new SchedulerOptions { Tiers = [new TierOptions { Name = "two-threads", Stt = "pocketsphinx", SlmModel = "none", Threads = 2 }, new TierOptions { Name = "one-thread", Stt = "pocketsphinx", SlmModel = "none", Threads = 1 }] };
        _models = new ModelSets(s_intents.Value, _registry, new ModelsOptions(), new SpeechOptions { Engine = "pocketsphinx" }, new WhisperEngineOptions(), s_acceptSyntheticVoice, new SlmOptions(), scheduler, NullLogger.Instance);
        _models.BuildInitial();
        _gpio.Start(_registry.Entities, _status);
    }

    public void Dispose()
    {
        _models.Dispose();
        _timers.Dispose();
        _gpio.Dispose();
    }

    private VoicePipeline Pipeline(bool wakeRequired, IWakeDetector? wake = null, ISpeaker? speaker = null, EchoCancellationOptions? echo = null, VadOptions? vad = null, TimeProvider? clock = null)
    {
        var pipeline = new VoicePipeline(
            new PipelineOptions { WakeRequired = wakeRequired },
            vad ?? new VadOptions(),
            wake,
            _models,
            new Actuator(bus: null, _gpio, new EntityStateStore(NullLogger.Instance), bridge: null, NullLogger.Instance),
            speaker ?? _speaker,
            _status,
            _timers,
            _log,
            clock,
            echo: echo);
        pipeline.UtteranceCompleted += _traces.Add;
        return pipeline;
    }

    [Fact]
    public async Task The_demo_recording_wakes_the_hub_three_times_and_the_confirmed_garage_door_opens()
    {
        using var wake = new WakeWordDetector("/usr/share/pocketsphinx/model/en-us", new WakeOptions { Phrases = [new WakePhrase()] });
        var pipeline = Pipeline(wakeRequired: true, wake);

        await pipeline.RunAsync(new WavFileSource(TestPaths.Fixture("demo.wav"), TimeSpan.FromMilliseconds(20), realTime: false), CancellationToken.None);

        Assert.Equal(
            ["HassTurnOn light.kitchen_light", "HassClimateSetTemperature climate.living_room", "HassTurnOn cover.garage_door", "HassTurnOn cover.garage_door"],
            _traces.Select(t => $"{t.Result?.Intent} {string.Join(",", t.Result?.PendingTargets ?? t.Result?.Targets ?? [])}"));
        Assert.Equal([true, true, true, false], _traces.Select(t => t.Woken)); // "yes" came in the follow-up window
        Assert.Equal(21.0, Convert.ToDouble(_traces[1].Result!.Slots["temperature"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(IntentStatus.Confirm, _traces[2].Result!.Status);
        Assert.Equal(IntentStatus.Ok, _traces[3].Result!.Status);
        Assert.All(_traces, t => Assert.True(t.StageMilliseconds.ContainsKey("stt") && t.StageMilliseconds.ContainsKey("total"), string.Join(",", t.StageMilliseconds.Keys)));
        Assert.Contains(_speaker.Said, s => s.Contains('?', StringComparison.Ordinal)); // the confirmation question was asked
    }

    [Fact]
    public async Task Without_a_wake_word_each_command_is_handled_and_a_GPIO_relay_switches()
    {
        var pipeline = Pipeline(wakeRequired: false);

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, s_kitchenLightOn.Value)), CancellationToken.None);

        var trace = Assert.Single(_traces);
        Assert.True(trace.Result?.Intent == "HassTurnOn", $"heard \"{trace.Transcript}\" as {trace.Result?.Intent}");
        var target = Assert.Single(trace.Actuation!.Targets);
        Assert.True(target.Status == TargetStatus.Done, $"{trace.Transcript}: {target.EntityId} {target.Problem}");
        Assert.Equal(true, _gpio.OutputState("light.kitchen_light"));
    }

    [Fact]
    public async Task A_complete_command_is_acted_on_after_a_short_pause_not_the_whole_trailing_silence()
    {
        var pipeline = Pipeline(wakeRequired: false);

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, s_kitchenLightOn.Value)), CancellationToken.None);

        var trace = Assert.Single(_traces);
        Assert.Equal("HassTurnOn", trace.Result?.Intent);
        // Audio heard after the last voiced frame before the command went out: the short pause (200 ms), not the 700 ms silence.
        Assert.InRange(trace.StageMilliseconds["endpoint_wait"], 0, 400);
    }

    [Theory]
    [InlineData(250, true)]
    [InlineData(0, false)]
    public async Task Kitchen_clatter_that_starts_an_utterance_is_not_taken_for_a_command_when_it_holds_no_voice(int minimumVoiceMs, bool voiceChecked)
    {
        var clatter = AudioFile.ReadMono16k(TestPaths.Fixture("kitchen-noise.wav"));
        var pipeline = Pipeline(wakeRequired: false, vad: new VadOptions { MinimumVoice = TimeSpan.FromMilliseconds(minimumVoiceMs) });

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(3, clatter)), CancellationToken.None);

        Assert.NotEmpty(_traces); // the clatter is loud enough to start utterances by energy
        if (voiceChecked)
        {
            // Silero hears no voice: nothing is decoded, nothing understood.
            Assert.All(_traces, t => Assert.StartsWith("no voice in it", t.Rejection, StringComparison.Ordinal));
            Assert.All(_traces, t => Assert.False(t.StageMilliseconds.ContainsKey("stt")));
            Assert.All(_traces, t => Assert.Null(t.Result));
        }
        else
        {
            // Unchecked, the clatter is decoded (in context, Silero hears about 0.2 s of "voice" in it).
            Assert.All(_traces, t => Assert.True(t.StageMilliseconds.ContainsKey("stt")));
        }
    }

    [Fact]
    public async Task Push_to_talk_pressed_after_talk_in_the_room_hears_the_command_said_while_it_is_held()
    {
        var chatter = AudioFile.ReadMono16k(TestPaths.Fixture("not-a-command.wav"));
        var stream = SpokenAudio.Stream(2, chatter, s_kitchenLightOn.Value);
        var press = AudioFile.Time((AudioFile.SampleRate / 2) + chatter.Length + AudioFile.SampleRate); // a second after the chatter
        using var wake = new NeverWakes();
        var pipeline = Pipeline(wakeRequired: true, wake);

        await pipeline.RunAsync(new MemoryAudioSource(stream, beforeBlock: at => pipeline.PushToTalk = at >= press), CancellationToken.None);

        var trace = Assert.Single(_traces);
        Assert.False(trace.Woken);
        Assert.Equal("HassTurnOn", trace.Result?.Intent);
    }

    [Fact]
    public async Task With_Silero_endpointing_a_spoken_command_passes_the_voice_check_its_judgements_feed()
    {
        var pipeline = Pipeline(wakeRequired: false, vad: new VadOptions { Detector = SpeechDetector.Silero });

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(3, s_kitchenLightOn.Value)), CancellationToken.None);

        var trace = Assert.Single(_traces);
        Assert.Null(trace.Rejection);
        Assert.Equal("HassTurnOn", trace.Result?.Intent);
    }

    [Theory]
    [InlineData("turn on the kitchen light", false, true)]
    [InlineData("set the thermostat to twenty one degrees", false, true)]
    [InlineData("open the garage door", false, true)] // a command that asks first is complete too
    [InlineData("set the thermostat to twenty", false, false)] // "twenty ... one": a number may go on
    [InlineData("turn on the", false, false)]
    [InlineData("yes", true, true)]
    [InlineData("the kitchen", false, false)]
    public void A_short_pause_ends_the_utterance_only_when_what_was_heard_is_a_whole_command(string hypothesis, bool confirmationPending, bool complete)
    {
        var recognizer = IntentRecognizer.Create(s_intents.Value, _registry, fuzzy: false);

        Assert.Equal(complete, VoicePipeline.IsCompleteCommand(hypothesis, recognizer, new Dictionary<string, string>(), confirmationPending));
    }

    [Fact]
    public async Task Tier_switches_between_utterances_drop_no_command()
    {
        var pipeline = Pipeline(wakeRequired: false);
        var switches = new List<Task>();
        pipeline.UtteranceCompleted += trace =>
        {
            var switching = _models.SwitchTierAsync((int)(trace.Number % _models.Tiers.Count));
            switches.Add(switching);
            if (trace.Number == 1)
            {
                // The audio here comes faster than real time: let the first build finish, so a switch
                // certainly lands; the later ones overlap the utterances as they would on a board.
                switching.Wait();
            }
        };
        var commands = Enumerable.Repeat(s_kitchenLightOn.Value, 6).ToArray();

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, commands)), CancellationToken.None);
        await Task.WhenAll(switches);

        Assert.Equal(6, _traces.Count);
        Assert.All(_traces, t => Assert.True(t.Result?.Intent == "HassTurnOn", $"heard \"{t.Transcript}\" as {t.Result?.Intent}"));
        // Each switch takes effect at the first utterance after its build finished.
        Assert.Equal([0, 1], _traces.Select(t => t.Tier).Distinct().Order());
    }

    [Fact]
    public async Task A_failing_answer_is_logged_in_the_trace_and_the_next_command_is_still_handled()
    {
        var speaker = new RecordingSpeaker { FailuresLeft = 1 };
        var pipeline = Pipeline(wakeRequired: false, speaker: speaker);

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, s_kitchenLightOn.Value, s_kitchenLightOn.Value)), CancellationToken.None);

        Assert.Equal(2, _traces.Count);
        Assert.StartsWith("answer: ", _traces[0].Error, StringComparison.Ordinal);
        Assert.Null(_traces[1].Error);
        Assert.Equal("HassTurnOn", _traces[1].Result?.Intent);
    }

    [Fact]
    public async Task A_short_reply_to_the_hubs_question_is_heard_though_it_holds_too_little_voice_for_a_command()
    {
        var command = SpokenAudio.Say("open the garage door");
        var yes = SpokenAudio.Say("yes");
        TimeSpan Voice(float[] audio)
        {
            using var meter = VoiceMeter.Create(new VadOptions(), problem => Assert.Fail(problem))!;
            meter.Feed(audio);
            return meter.Voiced;
        }

        // A voice check between the two: the command passes it, "yes" alone would not.
        var (commandVoice, yesVoice) = (Voice(command), Voice(yes));
        Assert.True(yesVoice < commandVoice, $"\"yes\" {yesVoice.TotalMilliseconds} ms of voice, the command {commandVoice.TotalMilliseconds} ms");
        var vad = new VadOptions { MinimumVoice = (commandVoice + yesVoice) / 2 };

        await Pipeline(wakeRequired: false, vad: vad).RunAsync(new MemoryAudioSource(SpokenAudio.Stream(2, command, yes)), CancellationToken.None);
        await Pipeline(wakeRequired: false, vad: vad).RunAsync(new MemoryAudioSource(SpokenAudio.Stream(2, yes)), CancellationToken.None);

        Assert.Equal(3, _traces.Count);
        Assert.Equal(IntentStatus.Confirm, _traces[0].Result?.Status);
        Assert.True(_traces[1].Result is { Intent: "HassTurnOn", Status: IntentStatus.Ok }, $"the reply: \"{_traces[1].Transcript}\" {_traces[1].Rejection}");
        Assert.StartsWith("no voice in it", _traces[2].Rejection, StringComparison.Ordinal); // with no question asked
    }

    [Fact]
    public async Task A_yes_long_after_the_confirmation_window_confirms_nothing()
    {
        var pipeline = Pipeline(wakeRequired: false);
        var stream = SpokenAudio.Stream(12, SpokenAudio.Say("open the garage door"), SpokenAudio.Say("yes"));

        await pipeline.RunAsync(new MemoryAudioSource(stream), CancellationToken.None);

        Assert.Equal(2, _traces.Count);
        Assert.Equal(IntentStatus.Confirm, _traces[0].Result?.Status);
        Assert.NotEqual("HassTurnOn", _traces[1].Result?.Intent); // the question expired with its window
    }

    [Fact]
    public async Task A_muted_hub_ignores_everything_it_hears()
    {
        var pipeline = Pipeline(wakeRequired: false);
        _status.SetMuted(true);

        var handled = await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, s_kitchenLightOn.Value)), CancellationToken.None);

        Assert.Equal(0, handled);
        Assert.Empty(_traces);
    }

    [Fact]
    public async Task A_spoken_timer_starts_and_cancel_stops_it()
    {
        var pipeline = Pipeline(wakeRequired: false);

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, SpokenAudio.Say("start a timer for five minutes"))), CancellationToken.None);

        // The synthetic voice's number is not always heard right; the timer runs for what was heard.
        Assert.True(_timers.Running.Count == 1, string.Join(" | ", _traces.Select(t => $"{t.Transcript} [{t.Rejection}] {t.Result?.Intent} {t.Response}")));
        var timer = _timers.Running[0];
        Assert.Equal(TimeSpan.FromMinutes(Convert.ToDouble(_traces[0].Result!.Slots["minutes"], System.Globalization.CultureInfo.InvariantCulture)), timer.Duration);

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, SpokenAudio.Say("cancel the timer", wordsPerMinute: 110))), CancellationToken.None);

        Assert.Empty(_timers.Running);
        Assert.Equal(["HassStartTimer", "HassCancelTimer"], _traces.Select(t => t.Result?.Intent));
    }

    [Fact]
    public async Task A_finished_timer_is_announced_until_stop_is_said()
    {
        var pipeline = Pipeline(wakeRequired: false);
        var finished = new TaskCompletionSource();
        _timers.Finished += _ => finished.TrySetResult();
        _timers.Start(TimeSpan.FromMilliseconds(50), "tea");
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(6, SpokenAudio.Say("stop"))), CancellationToken.None);

        Assert.Contains("Your tea timer is done.", _speaker.Said);
        var trace = Assert.Single(_traces);
        Assert.Equal("HassNevermind", trace.Result?.Intent);
        Assert.Equal("OK.", trace.Response); // something was stopped
    }

    [Fact]
    public async Task After_an_alarm_gives_up_with_nobody_home_the_hub_needs_its_wake_word_again()
    {
        using var wake = new NeverWakes();
        var clock = new ManualClock(DateTimeOffset.UtcNow); // the alarm gives up a minute after it went off, by the stream's time
        var pipeline = Pipeline(wakeRequired: true, wake, clock: clock);
        var finished = new TaskCompletionSource();
        _timers.Finished += _ => finished.TrySetResult();
        _timers.Start(TimeSpan.FromMilliseconds(50), "tea");
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // Clatter while it rings (an utterance, rejected), nobody for over a minute, then talk not meant for the hub.
        var stream = SpokenAudio.Stream(70, AudioFile.ReadMono16k(TestPaths.Fixture("kitchen-noise.wav")), s_kitchenLightOn.Value);

        await pipeline.RunAsync(new MemoryAudioSource(stream, beforeBlock: _ => clock.Advance(TimeSpan.FromMilliseconds(20))), CancellationToken.None);

        Assert.Contains("Your tea timer is done.", _speaker.Said);
        Assert.NotEmpty(_traces); // the clatter was heard, while the alarm rang
        Assert.DoesNotContain(_traces, t => t.Result is not null);
    }

    [Fact]
    public async Task Stop_said_over_an_answer_is_heard_through_the_echo_and_cuts_the_answer_short()
    {
        // Commands first: their answers are what the canceller learns the room from (it needs about
        // three seconds of the hub's voice), as on an appliance that has been talking.
        using var room = new SimulatedRoom(SpokenAudio.Stream(3, s_kitchenLightOn.Value, s_kitchenLightOn.Value, s_kitchenLightOn.Value), EchoPath.Random(new Random(3)), echoGain: 2f) { WordsPerMinute = 100 };
        room.SayWhenTheHubTalks(SpokenAudio.Say("stop"), TimeSpan.FromMilliseconds(400), answer: 3);
        using var pipeline = Pipeline(wakeRequired: false, speaker: room, echo: new EchoCancellationOptions());

        await pipeline.RunAsync(room, CancellationToken.None);

        var heard = _traces.Where(t => t.Result is not null).Select(t => t.Result!.Intent).ToList();
        Assert.True(heard.SequenceEqual(["HassTurnOn", "HassTurnOn", "HassTurnOn", "HassNevermind"]), Explain(room));
        Assert.Equal("OK.", _traces.Last(t => t.Result is not null).Response); // something was stopped
        Assert.Equal(1, room.Interrupted); // mid-sentence
    }

    [Fact]
    public async Task The_wake_word_over_an_answer_cuts_it_short_and_the_command_after_it_is_carried_out()
    {
        using var wake = WakeDetectors.Create(new WakeOptions { Phrases = [new WakePhrase()] }, new ModelsOptions()); // the appliance's default: the neural stage
        var computer = AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav"));
        var lightOn = (float[])[.. computer, .. s_kitchenLightOn.Value];
        // The echo as loud as the talker: louder still, the canceller's residue hides the wake word from the detector (see eval echo).
        using var room = new SimulatedRoom(SpokenAudio.Stream(4, lightOn, lightOn, lightOn), EchoPath.Random(new Random(5)), echoGain: 1f) { WordsPerMinute = 100 };
        room.SayWhenTheHubTalks([.. AudioFile.Voiced(computer), .. new float[8000], .. SpokenAudio.Say("turn off the kitchen light")], TimeSpan.FromMilliseconds(300), answer: 3);
        using var pipeline = Pipeline(wakeRequired: true, wake, speaker: room, echo: new EchoCancellationOptions());

        await pipeline.RunAsync(room, CancellationToken.None);

        Assert.True(_traces.Where(t => t.Result is not null).Select(t => t.Result!.Intent).SequenceEqual(["HassTurnOn", "HassTurnOn", "HassTurnOn", "HassTurnOff"]), Explain(room));
        Assert.All(_traces.Where(t => t.Result is not null), t => Assert.True(t.Woken));
        Assert.Equal(1, room.Interrupted);
        Assert.Equal(false, _gpio.OutputState("light.kitchen_light"));
    }

    [Fact]
    public async Task Other_speech_over_an_answer_is_left_alone()
    {
        // Two answers teach the canceller the room; the third is spoken over.
        using var room = new SimulatedRoom(SpokenAudio.Stream(3, s_kitchenLightOn.Value, s_kitchenLightOn.Value, s_kitchenLightOn.Value), EchoPath.Random(new Random(7)), echoGain: 2f) { WordsPerMinute = 100 };
        room.SayWhenTheHubTalks(SpokenAudio.Say("turn off the kitchen light"), TimeSpan.FromMilliseconds(100), answer: 3);
        using var pipeline = Pipeline(wakeRequired: false, speaker: room, echo: new EchoCancellationOptions());

        await pipeline.RunAsync(room, CancellationToken.None);

        Assert.Equal("HassTurnOn", _traces[0].Result?.Intent);
        Assert.DoesNotContain(_traces, t => t.Result?.Intent == "HassTurnOff"); // without the wake word, only a stop word may interrupt
        Assert.Contains(_traces, t => t.Rejection?.Contains("said while the hub talked", StringComparison.Ordinal) == true); // heard, and let be
        Assert.Equal(0, room.Interrupted);
        Assert.Equal(true, _gpio.OutputState("light.kitchen_light"));
    }

    [Fact]
    public async Task The_status_shows_answering_for_as_long_as_an_answer_plays_in_the_background()
    {
        using var feed = new SpeakerFeed(TimeSpan.FromSeconds(1));
        var speaker = new HeldSpeaker(feed);
        var command = SpokenAudio.Stream(1, s_kitchenLightOn.Value);
        var seen = new List<(PipelineState State, bool Talking)>();
        using var pipeline = Pipeline(wakeRequired: false, speaker: speaker, echo: new EchoCancellationOptions());

        await pipeline.RunAsync(new ObservedSource(command, 150, blocksAfter =>
        {
            if (blocksAfter == 100)
            {
                speaker.Finish(); // the answer ends two seconds after the command
            }
            else if (blocksAfter > 100)
            {
                // From the answer's end on, blocks come at a microphone's pace (one per 20 ms): read as
                // fast as it goes, this source could run out before a busy machine ends the answer's task.
                Thread.Sleep(20);
            }

            seen.Add((_status.Snapshot.State, !speaker.Finished));
        }), CancellationToken.None);

        Assert.Equal("HassTurnOn", Assert.Single(_traces).Result?.Intent);
        var afterTheCommand = seen.SkipWhile(s => s.State != PipelineState.Answering).ToList();
        Assert.True(afterTheCommand.Count(s => s.Talking) > 50); // the answer played in the background for a while ...
        Assert.All(afterTheCommand.Where(s => s.Talking), s => Assert.Equal(PipelineState.Answering, s.State)); // ... and showed so all along
        Assert.Contains(afterTheCommand[^1].State, new[] { PipelineState.FollowUp, PipelineState.Listening }); // then no longer
    }

    /// <summary>Plays each answer until <see cref="Finish"/>: an answer of any length, ended by the test.</summary>
    private sealed class HeldSpeaker(SpeakerFeed feed) : ISpeaker
    {
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsSpeaking => !Finished;

        public bool Finished => _finished.Task.IsCompleted;

        public SpeakerFeed? Feed => feed;

        public void Finish() => _finished.TrySetResult();

        public Task SayAsync(string text, CancellationToken cancellationToken = default) => _finished.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The audio, then silence blocks; told, before each silence block is read, how many came after the audio.</summary>
    private sealed class ObservedSource(float[] audio, int silenceBlocks, Action<int> beforeBlock) : IAudioSource
    {
        public string Name => "observed";

        public bool IsRealTime => false;

        public async IAsyncEnumerable<AudioBlock> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var at = 0;
            await foreach (var block in new MemoryAudioSource(audio).ReadAsync(cancellationToken))
            {
                at += block.Samples.Length;
                yield return block;
            }

            for (var i = 0; i < silenceBlocks; i++)
            {
                beforeBlock(i);
                await Task.Yield(); // the answer's task may finish
                yield return new AudioBlock(new float[320], AudioFile.Time(at + (i * 320)));
            }
        }
    }

    [Fact]
    public async Task Recording_the_wake_phrase_takes_what_is_said_after_each_prompt_and_then_the_hub_listens_as_before()
    {
        using var wake = WakeDetectors.Create(new WakeOptions { Phrases = [new WakePhrase()] }, new ModelsOptions());
        var saying = AudioFile.Voiced(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));
        var states = new List<PipelineState>();
        _status.Changed += s => states.Add(s.State);
        using var pipeline = Pipeline(wakeRequired: true, wake);

        var recording = pipeline.RecordWakePhraseAsync("computer", 3, CancellationToken.None);
        await pipeline.RunAsync(new MemoryAudioSource([.. SpokenAudio.Stream(2.5, saying, saying, saying, []), .. WakeWordAndCommand(saying)]), CancellationToken.None);
        var clips = await recording;

        Assert.Equal(3, clips.Count);
        Assert.All(clips, c => Assert.InRange(c.Samples.Length, saying.Length, saying.Length + (2 * AudioFile.SampleRate))); // the saying and a moment of the room around it
        Assert.Equal(["I will ask 3 times. Each time, say computer, then wait.", "computer, again.", "computer, again."], _speaker.Said.Take(3));
        Assert.Contains(PipelineState.Enrolling, states);
        var command = Assert.Single(_traces); // the sayings woke nothing; the wake word after them did
        Assert.True(command.Woken);
        Assert.True(command.Result?.Intent == "HassTurnOn", $"\"{command.Transcript}\" [{command.Rejection}] at {command.StreamStart.TotalSeconds:0.0}-{command.StreamEnd.TotalSeconds:0.0} s; log: {string.Join(" | ", _log.All)}");
    }

    [Fact]
    public async Task A_clipped_saying_of_the_wake_phrase_is_asked_for_again_saying_it_was_too_loud()
    {
        using var deaf = new NeverWakes();
        var saying = AudioFile.Voiced(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));
        var shouted = saying.Select(s => Math.Clamp(s * 30, -1f, 1f)).ToArray();
        using var pipeline = Pipeline(wakeRequired: true, deaf);

        var recording = pipeline.RecordWakePhraseAsync("computer", 2, CancellationToken.None);
        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(2.5, shouted, saying, saying)), CancellationToken.None);
        var clips = await recording;

        Assert.Equal(2, clips.Count);
        Assert.Equal(["I will ask 2 times. Each time, say computer, then wait.", "That was too loud. Say computer a little further from me.", "computer, again."], _speaker.Said.Take(3));
    }

    [Fact]
    public async Task Recording_the_wake_phrase_over_the_hub_s_own_speaker_takes_only_what_the_person_says()
    {
        var saying = AudioFile.Voiced(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));
        using var deaf = new NeverWakes();
        // The prompts echo as loud as the talker; the talker answers each once it has been said.
        using var room = new SimulatedRoom(SpokenAudio.Room(25), EchoPath.Random(new Random(3)), echoGain: 1f);
        room.SayWhenTheHubTalks(saying, TimeSpan.FromSeconds(5), answer: 1);
        room.SayWhenTheHubTalks(saying, TimeSpan.FromSeconds(2), answer: 2);
        room.SayWhenTheHubTalks(saying, TimeSpan.FromSeconds(2), answer: 3);
        using var pipeline = Pipeline(wakeRequired: true, deaf, speaker: room, echo: new EchoCancellationOptions());

        var recording = pipeline.RecordWakePhraseAsync("computer", 3, CancellationToken.None);
        await pipeline.RunAsync(room, CancellationToken.None);
        var clips = await recording;

        Assert.Equal(["I will ask 3 times. Each time, say computer, then wait.", "computer, again.", "computer, again."], room.Said); // none asked for again
        Assert.All(clips, c => Assert.InRange(c.Samples.Length, saying.Length, saying.Length + (2 * AudioFile.SampleRate)));
    }

    [Fact]
    public async Task Saying_learn_my_wake_word_asks_the_hub_to_learn_it()
    {
        using var pipeline = Pipeline(wakeRequired: false);
        var asked = 0;
        pipeline.LearnWakeWordAsked += () => asked++;

        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(1.5, SpokenAudio.Say("learn my wake word"))), CancellationToken.None);

        Assert.Equal("VoiceHubLearnWakeWord", Assert.Single(_traces).Result?.Intent);
        Assert.Equal(1, asked);
        Assert.Equal(["OK, let's learn my wake word."], _speaker.Said);
    }

    [Fact]
    public async Task A_wake_phrase_recording_with_no_sound_from_the_microphone_gives_up_after_ten_seconds_not_after_every_prompt()
    {
        using var pipeline = Pipeline(wakeRequired: true, new NeverWakes()); // its audio loop never runs: no microphone

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<WakeEnrollmentException>(() => pipeline.RecordWakePhraseAsync("computer", 3, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal("no sound from the microphone for 10 s", refused.Message);
        Assert.InRange(clock.Elapsed.TotalSeconds, 9.5, 30); // without a block, no prompt's wait would ever end
    }

    [Fact]
    public async Task A_muted_hub_does_not_record_its_wake_phrase()
    {
        using var pipeline = Pipeline(wakeRequired: true, new NeverWakes());
        _status.SetMuted(true);

        var refused = await Assert.ThrowsAsync<WakeEnrollmentException>(() => pipeline.RecordWakePhraseAsync("computer", 3, CancellationToken.None));

        Assert.Equal("the microphone is muted", refused.Message);
    }

    [Fact]
    public async Task The_running_hub_learns_its_wake_phrase_keeps_the_model_and_wakes_with_it()
    {
        using var state = new TempDirectory();
        var options = new WakeOptions { Phrases = [new WakePhrase()], EnrollmentSayings = 3 };
        using var deaf = new NeverWakes(); // so any wake after the enrollment is the learned model's
        var saying = AudioFile.Voiced(AudioFile.ReadMono16k(TestPaths.Fixture("wake-computer.wav")));
        using var pipeline = Pipeline(wakeRequired: true, deaf);
        using var enrollment = new HubWakeEnrollment(pipeline, options, new ModelsOptions(), state.Path, _log, CancellationToken.None);
        var retired = new List<IWakeDetector>();
        pipeline.WakeRetired += retired.Add;

        enrollment.Request();
        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Stream(2.5, saying, saying, saying)), CancellationToken.None);
        await enrollment.Completion;
        await pipeline.RunAsync(new MemoryAudioSource([.. SpokenAudio.Room(2.5), .. WakeWordAndCommand(saying)]), CancellationToken.None); // a moment of the room first: a new wake detector warms up

        Assert.True(File.Exists(HubWakeEnrollment.ModelPath(state.Path, "computer")), string.Join(" | ", _log.All));
        var command = Assert.Single(_traces);
        Assert.True(command.Woken);
        Assert.True(command.Result?.Intent == "HassTurnOn", $"\"{command.Transcript}\" [{command.Rejection}] at {command.StreamStart.TotalSeconds:0.00}-{command.StreamEnd.TotalSeconds:0.00} s; log: {string.Join(" | ", _log.All)}");
        Assert.Equal(["Thank you. I am learning computer now; that takes a minute or two.", "Done. Say computer to wake me."], _speaker.Said.Skip(3).Take(2)); // after the three prompts, before the answer
        Assert.Same(deaf, Assert.Single(retired)); // handed back to its owner (the wake stage frees it then)...
        Assert.False(deaf.Disposed); // ...not freed by the pipeline, which owns only the learned one
    }

    [Fact]
    public async Task A_wake_enrollment_nobody_answers_is_given_up_aloud_and_the_hub_keeps_its_wake_model()
    {
        using var state = new TempDirectory();
        using var deaf = new NeverWakes();
        using var pipeline = Pipeline(wakeRequired: true, deaf);
        using var enrollment = new HubWakeEnrollment(pipeline, new WakeOptions { Phrases = [new WakePhrase()], EnrollmentSayings = 3 }, new ModelsOptions(), state.Path, _log, CancellationToken.None);

        enrollment.Request();
        await pipeline.RunAsync(new MemoryAudioSource(SpokenAudio.Room(30.5)), CancellationToken.None); // three prompts of 8 s unanswered
        await enrollment.Completion;
        await pipeline.RunAsync(new MemoryAudioSource(new float[AudioFile.SampleRate]), CancellationToken.None);

        Assert.True(_log.All.Any(line => line.Contains("Wake enrollment of \"computer\" failed", StringComparison.Ordinal) && line.Contains("nobody said the phrase after 3 prompts", StringComparison.Ordinal)), string.Join(" | ", _log.All));
        Assert.Equal(2, _speaker.Said.Count(s => s == "I heard nothing. Say computer."));
        Assert.Equal("Sorry, I could not learn computer. I keep listening as before.", _speaker.Said[^1]);
        Assert.False(Directory.Exists(Path.Combine(state.Path, "wake")) && Directory.EnumerateFiles(Path.Combine(state.Path, "wake")).Any());
    }

    private string Explain(SimulatedRoom room) =>
        $"heard: {string.Join(" | ", _traces.Select(t => $"\"{t.Transcript}\" [{t.Rejection}] {t.Result?.Intent} at {t.StreamStart.TotalSeconds:0.0}-{t.StreamEnd.TotalSeconds:0.0} s"))}; said: {string.Join(" | ", room.Said)}; interrupted {room.Interrupted}; log: {string.Join(" | ", _log.All)}";

    /// <summary>
    /// The wake word, a short pause and "turn on the kitchen light". Without the recording's second of
    /// near digital silence after the word: a decode that starts in it normalizes its features by
    /// that silence, and the synthetic command then fits nothing or only a part of a command.
    /// </summary>
    private static float[] WakeWordAndCommand(float[] wakeWord) => SpokenAudio.Stream(0.6, wakeWord, s_kitchenLightOn.Value);

    /// <summary>A wake stage that hears nothing.</summary>
    private sealed class NeverWakes : IWakeDetector
    {
        public bool Disposed { get; private set; }

        public IReadOnlyList<string> Phrases => ["computer"];

        public IReadOnlyList<WakeDetection> Process(AudioBlock block) => [];

        public void Reset()
        {
        }

        public void Dispose() => Disposed = true;
    }

    /// <summary>Records what the hub said; can fail the first answers like a broken sound card.</summary>
    private sealed class RecordingSpeaker : ISpeaker
    {
        public List<string> Said { get; } = [];

        public int FailuresLeft { get; set; }

        public bool IsSpeaking => false;

        public SpeakerFeed? Feed => null;

        public Task SayAsync(string text, CancellationToken cancellationToken = default)
        {
            if (FailuresLeft-- > 0)
            {
                throw new IOException("the sound card went away");
            }

            Said.Add(text);
            return Task.CompletedTask;
        }
    }
}
