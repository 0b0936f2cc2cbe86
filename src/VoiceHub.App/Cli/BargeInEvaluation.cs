using System.Globalization;
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

namespace VoiceHub.App.Cli;

/// <summary>
/// <c>eval echo</c>'s second part: barge-in through the whole pipeline, in a simulated room (the
/// hub's espeak-ng answers reach its microphone through a random echo path). Each trial: three
/// commands ("computer" — "turn on the kitchen light"), whose answers teach the canceller the room;
/// over the third answer, 300 ms in, someone says "stop" (espeak-ng, four voices: there are no real
/// recordings of it here) or a real recording of "computer" and then "set the thermostat to twenty
/// one degrees". With and without
/// cancellation (the pipeline listens while it talks either way).
/// </summary>
internal static class BargeInEvaluation
{
    private static readonly string[] s_stopVoices = ["en-us", "en-gb", "en-us+f3", "en-us+m3"];
    private static readonly bool[] s_withoutAndWith = [false, true];

    /// <param name="startJitter">Each answer reaches the microphone up to this much later than the feed says (<see cref="SimulatedRoom.StartJitter"/>).</param>
    /// <param name="timestampError">The feed places each answer by when it started to play (<see cref="SimulatedRoom.Timestamps"/>), with stamps up to this far off; null: by when the audio loop reads it.</param>
    public static async Task RunAsync(CliIo io, IReadOnlyList<string> wakeRecordings, int trials, double echoDb, TimeSpan startJitter, TimeSpan? timestampError, bool alignFeed, bool verbose, CancellationToken cancellationToken)
    {
        var intents = IntentSet.Load(Inputs.DefaultIntents());
        var registry = DevicesFile.Load(Path.Combine(AppContext.BaseDirectory, "demo", "devices.yaml"));
        var scheduler = new SchedulerOptions { Tiers = [new TierOptions { Name = "closed-set", Stt = "pocketsphinx", SlmModel = "none" }] };
        // espeak-ng's voice scores far below people against the phone loop: accept it (these trials are about hearing over the echo).
        using var models = new ModelSets(intents, registry, new ModelsOptions(), new SpeechOptions { Engine = "pocketsphinx" }, new WhisperEngineOptions(),
            new PocketsphinxEngineOptions { RejectionThreshold = -3 }, new SlmOptions(), scheduler, NullLogger.Instance);
        models.BuildInitial();
        var wake = AudioFile.Voiced(AudioFile.ReadMono16k(wakeRecordings[0]));
        var lightOn = (float[])[.. wake, .. new float[AudioFile.SampleRate / 3], .. Render("turn on the kitchen light", "en-us")];
        var thermostat = Render("set the thermostat to twenty one degrees", "en-us");
        var answerSound = Render("Turned on the kitchen light.", "en-us");

        await io.Output.WriteLineAsync($"through the pipeline: {trials} trials each, the echo {echoDb:0} dB over the talker, after two answers to learn the room").ConfigureAwait(false);
        foreach (var cancel in s_withoutAndWith)
        {
            int stopHeard = 0, wakeHeard = 0, commandsDone = 0, falseInterruptions = 0;
            for (var trial = 0; trial < trials; trial++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = EchoPath.Random(new Random(100 + trial));
                var gain = (float)(Math.Pow(10, echoDb / 20) * EvalEchoCommand.Rms(lightOn) / EvalEchoCommand.Rms(path.Apply(answerSound)));
                var talker = Stream(lightOn, lightOn, lightOn);

                var stop = await TrialAsync(models, registry, talker, path, gain, startJitter, timestampError, alignFeed, cancel, Render("stop", s_stopVoices[trial % s_stopVoices.Length]), cancellationToken).ConfigureAwait(false);
                stopHeard += stop.Traces.Any(t => t.Result?.Intent == IntentNames.Nevermind) && stop.Interrupted.Contains(3) ? 1 : 0;
                falseInterruptions += stop.Interrupted.Count(answer => answer != 3);

                var recording = AudioFile.Voiced(AudioFile.ReadMono16k(wakeRecordings[(trial + 1) % wakeRecordings.Count]));
                var woken = await TrialAsync(models, registry, talker, path, gain, startJitter, timestampError, alignFeed, cancel, [.. recording, .. new float[AudioFile.SampleRate * 2 / 5], .. thermostat], cancellationToken).ConfigureAwait(false);
                wakeHeard += woken.Interrupted.Contains(3) ? 1 : 0;
                commandsDone += woken.Traces.Any(t => t.Woken && t.Result?.Intent == IntentNames.ClimateSetTemperature) ? 1 : 0;
                falseInterruptions += woken.Interrupted.Count(answer => answer != 3);
                if (verbose)
                {
                    await io.Output.WriteLineAsync($"  trial {trial}: stop: {Heard(stop.Traces)} (answers cut: {string.Join(", ", stop.Interrupted)}); computer: {Heard(woken.Traces)} (answers cut: {string.Join(", ", woken.Interrupted)})").ConfigureAwait(false);
                }
            }

            await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{(cancel ? "with" : "without"),-7} echo cancellation: \"stop\" over an answer heard {stopHeard}/{trials} ({100.0 * stopHeard / trials:0.0}%), \"computer\" over an answer heard {wakeHeard}/{trials} ({100.0 * wakeHeard / trials:0.0}%) and its command carried out {commandsDone}/{trials}; answers cut short with nobody speaking over them: {falseInterruptions}")).ConfigureAwait(false);
        }
    }

    private static async Task<(List<UtteranceTrace> Traces, List<int> Interrupted)> TrialAsync(
        ModelSets models, DeviceRegistry registry, float[] talker, EchoPath path, float gain, TimeSpan startJitter, TimeSpan? timestampError, bool alignFeed, bool cancel, float[] overTheThirdAnswer, CancellationToken cancellationToken)
    {
        using var room = new SimulatedRoom(talker, path, gain) { StartJitter = startJitter, Timestamps = timestampError is not null, TimestampError = timestampError ?? TimeSpan.Zero };
        room.SayWhenTheHubTalks(overTheThirdAnswer, TimeSpan.FromMilliseconds(300), answer: 3);
        var status = new HubStatus();
        using var timers = new TimerService();
        using var gpio = new GpioHub(new GpioOptions(), NullLogger.Instance);
        gpio.Start(registry.Entities, status);
        using var detector = WakeDetectors.Create(new WakeOptions { Phrases = [new WakePhrase { Phrase = "computer" }] }, new ModelsOptions(), cancellationToken: cancellationToken);
        var actuator = new Actuator(bus: null, gpio, new EntityStateStore(NullLogger.Instance), bridge: null, NullLogger.Instance);
        using var pipeline = new VoicePipeline(new PipelineOptions(), new VadOptions(), detector, models, actuator, room, status, timers, NullLogger.Instance,
            echo: new EchoCancellationOptions { Cancel = cancel, AlignFeed = alignFeed });
        var traces = new List<UtteranceTrace>();
        pipeline.UtteranceCompleted += traces.Add;
        await pipeline.RunAsync(room, cancellationToken).ConfigureAwait(false);
        return (traces, room.InterruptedAnswers);
    }

    private static string Heard(List<UtteranceTrace> traces) =>
        string.Join(" | ", traces.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.StreamStart.TotalSeconds:0.0} s{(t.Woken ? " woken" : string.Empty)} \"{t.Transcript}\" {t.Result?.Intent ?? t.Rejection}")));

    private static float[] Render(string text, string voice) =>
        WakeSpeech.Render(text, voice, 140, 50) ?? throw new InputException("espeak-ng cannot speak (is it installed?)");

    /// <summary>The commands one after another, seven seconds apart: each answer and the follow-up window after it end before the next.</summary>
    private static float[] Stream(params float[][] commands)
    {
        var gap = new float[AudioFile.SampleRate * 7];
        return [.. new float[AudioFile.SampleRate / 2], .. commands.SelectMany(c => c.Concat(gap))];
    }
}
