namespace VoiceHub.Tests.Support;

/// <summary>Files in the repository the tests read (models, audio fixtures, intents).</summary>
public static class TestPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "VoiceHub.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no VoiceHub.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => s_root.Value;

    public static string WhisperTestModel => Path.Combine(Root, "tests", "models", "for-tests-ggml-tiny.en.bin");

    public static string LlamaTestModel => Path.Combine(Root, "tests", "models", "llama-2-tiny-random.gguf");

    public static string Fixture(string name) => Path.Combine(Root, "audio-fixtures", name);
}

/// <summary>A directory under the system temp directory, deleted with the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "voicehub-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
