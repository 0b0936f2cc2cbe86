namespace VoiceHub.Core.Intents;

/// <summary>
/// The intents the hub acts on, by their names in Home Assistant's intent files (and on the wire:
/// the JSON of <c>parse</c>, the events Home Assistant sees), so a misspelt name is a build error.
/// </summary>
public static class IntentNames
{
    public const string CancelAllTimers = "HassCancelAllTimers";

    public const string CancelTimer = "HassCancelTimer";

    public const string ClimateGetTemperature = "HassClimateGetTemperature";

    public const string ClimateSetTemperature = "HassClimateSetTemperature";

    public const string CloseCover = "HassCloseCover";

    public const string DecreaseTimer = "HassDecreaseTimer";

    public const string GetCurrentDate = "HassGetCurrentDate";

    public const string GetCurrentTime = "HassGetCurrentTime";

    public const string GetState = "HassGetState";

    public const string IncreaseTimer = "HassIncreaseTimer";

    public const string LightSet = "HassLightSet";

    public const string Lock = "HassLock";

    public const string MediaNext = "HassMediaNext";

    public const string MediaPause = "HassMediaPause";

    public const string MediaPrevious = "HassMediaPrevious";

    public const string MediaUnpause = "HassMediaUnpause";

    public const string Nevermind = "HassNevermind";

    public const string OpenCover = "HassOpenCover";

    public const string PauseTimer = "HassPauseTimer";

    public const string SetPosition = "HassSetPosition";

    public const string SetVolume = "HassSetVolume";

    public const string StartTimer = "HassStartTimer";

    public const string TimerStatus = "HassTimerStatus";

    public const string Toggle = "HassToggle";

    public const string TurnOff = "HassTurnOff";

    public const string TurnOn = "HassTurnOn";

    public const string Unlock = "HassUnlock";

    public const string UnpauseTimer = "HassUnpauseTimer";

    /// <summary>The hub's own: "learn my wake word" (as Home Assistant's "Learn wake word" button).</summary>
    public const string LearnWakeWord = "VoiceHubLearnWakeWord";

    /// <summary>Not an intent of the files: the event the hub sends Home Assistant when one of its timers rings.</summary>
    public const string TimerFinished = "timer_finished";
}
