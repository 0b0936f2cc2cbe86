namespace VoiceHub.Native;

/// <summary>Signals to child processes (.NET's Process.Kill only sends SIGKILL).</summary>
public static class ProcessSignals
{
    private const int SIGTERM = 15;

    /// <summary>Asks a process to exit cleanly; false when it is already gone.</summary>
    public static bool Terminate(int processId) => Interop.Libc.kill(processId, SIGTERM) == 0;
}
