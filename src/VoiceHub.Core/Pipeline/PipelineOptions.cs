namespace VoiceHub.Core.Pipeline;

/// <summary>How the hub converses (section <c>pipeline</c>).</summary>
public sealed class PipelineOptions
{
    public const string Section = "pipeline";

    /// <summary>False: every utterance the VAD finds is a command (push-to-talk boxes, evaluation streams).</summary>
    public bool WakeRequired { get; set; } = true;

    /// <summary>After an answer, a command needs no wake word for this long (0: off).</summary>
    public TimeSpan FollowUp { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Words that end whatever the hub is doing: a running answer, a timer alarm, a pending question.</summary>
    /// <summary>Empty: the defaults below (filled in after binding: bound lists append to defaults).</summary>
    public List<string> StopWords { get; set; } = [];

    public static readonly IReadOnlyList<string> DefaultStopWords = ["stop", "cancel", "never mind", "nevermind", "nothing", "forget it"];

    /// <summary>The room the hub stands in: "turn on the lights" means this room's.</summary>
    public string Area { get; set; } = string.Empty;

    /// <summary>Audio kept before the start of speech in a follow-up (the first syllable).</summary>
    public TimeSpan PreRoll { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>A finished timer is announced again this often until "stop".</summary>
    public TimeSpan AlertRepeat { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>A finished timer stops ringing this long after it finished: nobody seems to be home to hear it.</summary>
    public TimeSpan AlarmGiveUpAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the hub waits for the answer to its question ("Say yes to confirm"), without the wake word.</summary>
    public TimeSpan QuestionWindow { get; set; } = TimeSpan.FromSeconds(8);
}
