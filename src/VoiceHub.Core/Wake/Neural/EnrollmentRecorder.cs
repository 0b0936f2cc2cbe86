using VoiceHub.Core.Audio;

namespace VoiceHub.Core.Wake.Neural;

/// <summary>
/// Records enrollment clips from a microphone: the user is asked to say the phrase, and each thing
/// said (from the voice activity detector's start of speech to its end, with a moment of the room
/// before and after) becomes a clip. A clip that cannot be used (clipped, too short, too long) is
/// told and asked for again; so is a prompt nobody answered. Speech is told by energy (the
/// configured margins), whatever <see cref="VadOptions.Detector"/> says.
/// </summary>
public sealed class EnrollmentRecorder(VadOptions vad)
{
    /// <summary>Room sound kept before the start of speech (the detector needs a moment to be sure).</summary>
    private static readonly TimeSpan s_before = TimeSpan.FromMilliseconds(500);

    /// <summary>Asked for clip N (1-based) of the total; <c>retry</c> says why the last one is asked for again.</summary>
    public Action<int, int, string?>? Prompt { get; init; }

    /// <summary>Why a prompt is repeated when nobody answered it.</summary>
    public const string NothingHeard = "heard nothing";

    /// <summary>How the reason for a saying that ran too long begins.</summary>
    public const string TookTooLong = "that took over";

    /// <summary>Prompts in a row that nobody answered before the recording is given up.</summary>
    public int MaximumUnanswered { get; init; } = 3;

    /// <summary>The longest a phrase may take: more is someone talking, not a wake phrase.</summary>
    public TimeSpan MaximumPhrase { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The most sound a usable clip holds (null: a wake phrase's, <see cref="EnrollmentClip.LongestPhrase"/>).</summary>
    public TimeSpan? LongestSound { get; init; }

    /// <summary>What each clip is a recording of, in the line that tells the input ended or nobody spoke.</summary>
    public string Saying { get; init; } = "the phrase";

    /// <summary>Records <paramref name="count"/> usable clips, named by <paramref name="name"/> and their number.</summary>
    /// <exception cref="WakeEnrollmentException">The input ended before that many were said.</exception>
    public async Task<List<EnrollmentClip>> RecordAsync(IAudioSource source, int count, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var options = new VadOptions
        {
            SpeechMarginDb = vad.SpeechMarginDb,
            NoiseFloorMinimumDb = vad.NoiseFloorMinimumDb,
            MinimumSpeech = vad.MinimumSpeech,
            TrailingSilence = vad.TrailingSilence,
            EarlyEndSilence = TimeSpan.Zero,
            MaximumUtterance = MaximumPhrase + vad.TrailingSilence, // the detector counts the silence that ends it
            NoSpeechTimeout = TimeSpan.FromSeconds(8),
        };
        using var detector = new VoiceActivityDetector(options);
        var ring = new AudioRingBuffer(s_before + options.MaximumUtterance + TimeSpan.FromSeconds(1));
        var clips = new List<EnrollmentClip>();
        var start = TimeSpan.Zero; // of the saying being heard, with the room before it
        string? tooLong = null; // set while the rest of a saying that ran too long is let pass
        var unanswered = 0;
        Prompt?.Invoke(1, count, null);
        await foreach (var block in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ring.Write(block.Samples.Span);
            var happened = detector.Process(block.Samples.Span);
            string? retry = null;
            if (tooLong is not null)
            {
                // The detector tells "too long" on every frame after it, so the end shows as speech stopping.
                if (detector.InSpeech)
                {
                    continue;
                }

                retry = tooLong;
                tooLong = null;
                happened = VadEvent.None;
            }

            switch (happened)
            {
                case VadEvent.SpeechStarted:
                    unanswered = 0;
                    start = ring.Now - s_before;
                    continue;
                case VadEvent.UtteranceEnded:
                    var clip = new EnrollmentClip($"{name} {clips.Count + 1}", ring.CopySince(start));
                    try
                    {
                        _ = clip.FindSpeech(LongestSound);
                        clips.Add(clip);
                    }
                    catch (WakeEnrollmentException e)
                    {
                        retry = e.Message;
                    }

                    break;
                case VadEvent.MaximumLength:
                    // What is still said is the same saying: it ends before the next is asked for.
                    tooLong ??= $"{TookTooLong} {MaximumPhrase.TotalSeconds:0.#} s: say only {Saying}, then stop";
                    continue;
                case VadEvent.NoSpeech:
                    if (++unanswered >= MaximumUnanswered)
                    {
                        throw new WakeEnrollmentException($"{source.Name}: nobody said {Saying} after {unanswered} prompts in a row ({clips.Count} of {count} recordings made)");
                    }

                    retry = NothingHeard;
                    break;
                case VadEvent.None when retry is not null:
                    break;
                default:
                    continue;
            }

            if (clips.Count == count)
            {
                return clips;
            }

            detector.Reset();
            Prompt?.Invoke(clips.Count + 1, count, retry);
        }

        cancellationToken.ThrowIfCancellationRequested(); // a microphone ends its stream when stopped
        throw new WakeEnrollmentException($"{source.Name}: the input ended after {clips.Count} of {count} recordings of {Saying}");
    }
}
