using System.Text.Json;

namespace VoiceHub.Native;

internal static class JsonOptions
{
    /// <summary>Files written by the native build: snake_case keys.</summary>
    public static readonly JsonSerializerOptions Native = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
    };
}
