using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VoiceHub.Core.Audio;
using VoiceHub.Core.Configuration;
using VoiceHub.Core.Models;
using VoiceHub.Core.Wake;
using VoiceHub.Core.Wake.Neural;

namespace VoiceHub.App.Cli;

/// <summary>
/// <c>voicehub eval echo</c>: barge-in. Real recordings of the wake phrase said while the hub talks
/// (an espeak-ng answer) or rings (the alarm), through a realistic echo path from its speaker to its
/// microphone: a delay, a small speaker's band and soft clipping, a room's reverberation, and an echo
/// louder than the talker. The wake stage listens to the microphone as it is and after echo
/// cancellation; false wakes are counted on the hub's own sound alone.
/// </summary>
public static class EvalEchoCommand
{
    private const int Rate = AudioFile.SampleRate;
    private static readonly bool[] s_withAndWithout = [false, true];
    private static readonly string[] s_answers =
    [
        "The temperature in the living room is twenty one degrees and the humidity is fifty percent.",
        "I have turned on the light in the kitchen and set the thermostat to nineteen degrees for the night.",
        "Your timer for the pasta is done. The garage door is closed and the front door is locked.",
    ];

    public static Command Create(CliIo io)
    {
        var data = new Option<string>("--data") { Description = "Wake-word set: one folder of recordings per phrase", DefaultValueFactory = _ => WakeCommands.SharedFolder("wake-word-dev") };
        var phrase = new Option<string>("--phrase") { Description = "Wake phrase (its folder holds the recordings)", DefaultValueFactory = _ => "computer" };
        var limit = new Option<int>("--limit") { Description = "At most N recordings", DefaultValueFactory = _ => int.MaxValue };
        var echoDb = new Option<double>("--echo-db") { Description = "How much louder the echo is than the talker at the microphone (dB)", DefaultValueFactory = _ => 6 };
        var trials = new Option<int>("--pipeline-trials") { Description = "Barge-in trials through the whole pipeline (0: skip)", DefaultValueFactory = _ => 24 };
        var verbose = new Option<bool>("--verbose") { Description = "Which recordings were missed, and what the pipeline heard in each trial" };
        var tail = new Option<int>("--tail-ms") { Description = "The canceller's echo tail (as audio.echo.tail)", DefaultValueFactory = _ => (int)new EchoCancellationOptions().Tail.TotalMilliseconds };
        var suppress = new Option<bool>("--suppress-residual") { Description = "Suppress what the canceller leaves (as audio.echo.suppressResidual)", DefaultValueFactory = _ => new EchoCancellationOptions().SuppressResidual };
        var drift = new Option<double>("--drift-ppm") { Description = "The speaker's clock runs this many parts per million faster than the microphone's (0: one clock)" };
        var align = new Option<bool>("--align-feed") { Description = "Keep the echo where the canceller learned it (as audio.echo.alignFeed; --align-feed false to measure without)", DefaultValueFactory = _ => new EchoCancellationOptions().AlignFeed };
        var jitter = new Option<double>("--jitter-ms") { Description = "Each answer reaches the microphone up to this much later than its feed says, drawn anew for each (a real speaker, opened anew for each answer)" };
        var timestamps = new Option<bool>("--timestamps") { Description = "--pipeline-trials: the feed places each answer by when it started to play and when each microphone block was captured, as the hub does (--timestamps false: by when the audio loop reads it)", DefaultValueFactory = _ => true };
        var stampError = new Option<double>("--timestamp-error-ms") { Description = "--pipeline-trials: how far off (either way, at random) the speaker's stamp of each answer's start may be (threads waking late)", DefaultValueFactory = _ => 1 };
        var command = new Command("echo", "Barge-in: the wake phrase heard while the hub talks or rings, with and without echo cancellation") { data, phrase, limit, echoDb, trials, verbose, tail, suppress, drift, align, jitter, timestamps, stampError };
        command.SetAction((parse, cancellationToken) => CliApplication.Guard(io, "eval echo", async () =>
        {
            if (parse.GetValue(stampError) < 0)
            {
                throw new InputException($"--timestamp-error-ms {parse.GetValue(stampError)}: milliseconds, 0 or more");
            }

            var wakePhrase = parse.GetValue(phrase)!;
            var folder = Path.Combine(parse.GetValue(data)!, wakePhrase);
            if (!Directory.Exists(folder))
            {
                throw new InputException($"{folder}: no recordings of \"{wakePhrase}\"");
            }

            var files = Directory.GetFiles(folder, "*.wav").Order(StringComparer.Ordinal).Take(parse.GetValue(limit)).ToList();
            var sounds = new Dictionary<string, float[]>
            {
                ["answer"] = Answer(),
                ["alarm"] = Alarm(6 * Rate),
            };
            var models = new ModelsOptions();
            var wake = new WakeOptions { Phrases = [new WakePhrase { Phrase = wakePhrase }] };
            using var detector = WakeDetectors.Create(wake, models, cancellationToken: cancellationToken);
            var cancellationCpu = TimeSpan.Zero;
            var cancelledSeconds = 0.0;
            await io.Output.WriteLineAsync($"\"{wakePhrase}\": {files.Count} recordings said {parse.GetValue(echoDb):0} dB under the hub's own sound").ConfigureAwait(false);
            foreach (var (name, sound) in sounds)
            {
                foreach (var cancel in s_withAndWithout)
                {
                    // Three rooms, a third of the recordings each: the appliance stays where it is, so its
                    // canceller runs on and stays adapted to its room from one answer to the next.
                    var random = new Random(17);
                    var rooms = Enumerable.Range(0, 3).Select(_ => EchoPath.Random(random)).ToArray();
                    var cancellers = rooms.Select(_ => cancel ? new EchoCanceller(new EchoCancellationOptions { Tail = TimeSpan.FromMilliseconds(parse.GetValue(tail)), SuppressResidual = parse.GetValue(suppress), AlignFeed = parse.GetValue(align) }) : null).ToArray();
                    var detected = 0;
                    var falseWakes = 0;
                    try
                    {
                        foreach (var (file, index) in files.Select((f, i) => (f, i)))
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            var room = index % rooms.Length;
                            var speech = AudioFile.ReadMono16k(file);
                            var (ownSound, ownReference) = Mix(speech, sound, rooms[room], parse.GetValue(echoDb), parse.GetValue(drift), JitterSamples(parse.GetValue(jitter)), random, withSpeech: false);
                            var (microphone, reference) = Mix(speech, sound, rooms[room], parse.GetValue(echoDb), parse.GetValue(drift), JitterSamples(parse.GetValue(jitter)), random, withSpeech: true);
                            var clock = Process.GetCurrentProcess().TotalProcessorTime;
                            var own = cancellers[room] is { } c1 ? Cancel(c1, ownSound, ownReference) : ownSound;
                            var heard = cancellers[room] is { } c2 ? Cancel(c2, microphone, reference) : microphone;
                            if (cancel)
                            {
                                cancellationCpu += Process.GetCurrentProcess().TotalProcessorTime - clock;
                                cancelledSeconds += 2.0 * microphone.Length / Rate;
                            }

                            detector.Reset();
                            falseWakes += WakeCommands.Detect(detector, own).Count;
                            detector.Reset();
                            if (WakeCommands.Detect(detector, heard).Count > 0)
                            {
                                detected++;
                            }
                            else if (parse.GetValue(verbose))
                            {
                                await io.Output.WriteLineAsync($"  missed over the {name} {(cancel ? "with" : "without")} cancellation: {Path.GetFileName(file)} (room {room + 1}, its {(index / rooms.Length) + 1}. recording there)").ConfigureAwait(false);
                            }
                        }
                    }
                    finally
                    {
                        if (cancel && parse.GetValue(align))
                        {
                            await io.Output.WriteLineAsync("  clock drift measured in each room: " + string.Join(", ", cancellers.Select(c => c?.DriftPpm is { } ppm ? string.Create(CultureInfo.InvariantCulture, $"{ppm:0.0} ppm") : "not yet"))).ConfigureAwait(false);
                        }

                        foreach (var canceller in cancellers)
                        {
                            canceller?.Dispose();
                        }
                    }

                    await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"while the hub plays its {name,-6} {(cancel ? "with" : "without"),-7} echo cancellation: heard {detected}/{files.Count} ({100.0 * detected / files.Count:0.0}%), {falseWakes} false wakes on its own sound")).ConfigureAwait(false);
                }
            }

            await io.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"echo cancellation CPU: real-time factor {cancellationCpu.TotalSeconds / cancelledSeconds:0.0000} on one core")).ConfigureAwait(false);
            if (parse.GetValue(trials) > 0)
            {
                await BargeInEvaluation.RunAsync(io, files, parse.GetValue(trials), parse.GetValue(echoDb), TimeSpan.FromMilliseconds(parse.GetValue(jitter)), parse.GetValue(timestamps) ? TimeSpan.FromMilliseconds(parse.GetValue(stampError)) : null, parse.GetValue(align), parse.GetValue(verbose), cancellationToken).ConfigureAwait(false);
            }

            return CliApplication.Success;
        }));
        return command;
    }

    private static int JitterSamples(double milliseconds) => (int)(milliseconds * Rate / 1000);

    /// <summary>One stretch of the hub's sound through the room's canceller, restarted for it as the hub restarts it for each answer.</summary>
    private static float[] Cancel(EchoCanceller canceller, float[] microphone, float[] reference)
    {
        canceller.Restart();
        var output = new float[microphone.Length];
        const int block = 320;
        for (var at = 0; at < microphone.Length; at += block)
        {
            var n = Math.Min(block, microphone.Length - at);
            canceller.Process(microphone.AsSpan(at, n), reference.AsSpan(at, n), output.AsSpan(at, n));
        }

        return output;
    }

    /// <summary>What the hub says: a few answers in its espeak-ng voice, one after another.</summary>
    private static float[] Answer()
    {
        var parts = s_answers.Select(t => WakeSpeech.Render(t, "en-us", 165, 50) ?? throw new InputException("espeak-ng cannot speak (is it installed?)"));
        return [.. parts.SelectMany(p => p.Concat(new float[Rate / 4]))];
    }

    /// <summary>A kitchen-timer alarm: a bright two-tone beep, a quarter second on and off.</summary>
    private static float[] Alarm(int samples)
    {
        var alarm = new float[samples];
        for (var i = 0; i < samples; i++)
        {
            var t = (double)i / Rate;
            if ((int)(t / 0.25) % 2 == 0)
            {
                var frequency = (int)(t / 0.5) % 2 == 0 ? 880 : 988;
                alarm[i] = (float)(0.4 * (Math.Sin(2 * Math.PI * frequency * t) + (0.3 * Math.Sin(2 * Math.PI * 3 * frequency * t))));
            }
        }

        return alarm;
    }

    /// <summary>
    /// The microphone (the talker's recording placed 1.5 s into the hub's sound, its echo louder by
    /// <paramref name="echoDb"/>, a faint noise floor) and the speaker feed at the same moments. With
    /// <paramref name="driftPpm"/>, the speaker plays the feed that much faster than the microphone's clock; with
    /// <paramref name="jitterSamples"/>, it starts up to that much later than the feed says.
    /// </summary>
    private static (float[] Microphone, float[] Reference) Mix(float[] speech, float[] sound, EchoPath path, double echoDb, double driftPpm, int jitterSamples, Random random, bool withSpeech)
    {
        var length = (int)(1.5 * Rate) + speech.Length + Rate;
        var reference = new float[length];
        for (var i = 0; i < length; i++)
        {
            reference[i] = sound[i % sound.Length];
        }

        var echo = path.Apply(EchoPath.PlayedAtDrift(sound, driftPpm, length));
        if (jitterSamples > 0)
        {
            echo = [.. new float[random.Next(jitterSamples + 1)], .. echo]; // this answer's speaker started that much later
        }

        var speechRms = Rms(speech);
        var echoRms = Rms(echo.AsSpan((int)(1.5 * Rate), speech.Length));
        var gain = echoRms > 0 ? speechRms * Math.Pow(10, echoDb / 20) / echoRms : 0;
        var microphone = new float[length];
        for (var i = 0; i < length; i++)
        {
            var talker = withSpeech && i >= (int)(1.5 * Rate) && i - (int)(1.5 * Rate) < speech.Length ? speech[i - (int)(1.5 * Rate)] : 0;
            microphone[i] = (float)Math.Clamp(talker + (gain * echo[i]) + ((random.NextDouble() - 0.5) * 0.001), -1, 1);
        }

        return (microphone, reference);
    }

    internal static double Rms(ReadOnlySpan<float> audio)
    {
        var sum = 0.0;
        foreach (var sample in audio)
        {
            sum += sample * (double)sample;
        }

        return Math.Sqrt(sum / Math.Max(1, audio.Length));
    }
}
