using System.Net;
using System.Net.Sockets;
using VoiceHub.App.Cli;
using VoiceHub.Core.Models;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>Model downloads from a local HTTP server: resume, checksums, format checks, the CLI.</summary>
public sealed class ModelsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ModelServer _server;

    public ModelsTests() => _server = new ModelServer();

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    private static string Sha(string path, string algorithm) => ModelCatalog.Hash(path, algorithm);

    private CatalogModel Whisper(string? sha1 = null) => new("test-whisper", "whisper", "ggml-test.bin", new Uri(_server.BaseUrl, "ggml-test.bin"), sha1 ?? Sha(TestPaths.WhisperTestModel, "sha1"), null, 1, "the test model");

    [Fact]
    public async Task A_download_cut_off_midway_resumes_with_a_range_request_and_checks_the_checksum()
    {
        _server.Serve("ggml-test.bin", TestPaths.WhisperTestModel, dropFirstResponseAfterBytes: 200_000);
        using var http = new HttpClient();
        var progress = new List<DownloadProgress>();

        var path = await new ModelDownloader(http).DownloadAsync(Whisper(), Path.Combine(_dir.Path, "models"), new SynchronousProgress<DownloadProgress>(progress.Add));

        Assert.Equal(Sha(TestPaths.WhisperTestModel, "sha256"), Sha(path, "sha256"));
        Assert.Equal([null, "bytes=200000-"], _server.RangeHeaders);
        Assert.Equal(new FileInfo(path).Length, progress[^1].Received);
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public async Task A_checksum_mismatch_is_one_clear_error_and_leaves_no_model_behind()
    {
        _server.Serve("ggml-test.bin", TestPaths.WhisperTestModel);
        using var http = new HttpClient();
        var models = Path.Combine(_dir.Path, "models");

        var error = await Assert.ThrowsAsync<ModelDownloadException>(() => new ModelDownloader(http).DownloadAsync(Whisper(sha1: new string('0', 40)), models));

        Assert.StartsWith("test-whisper: the downloaded file is not usable: SHA-1 is ", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(models));
    }

    [Fact]
    public async Task A_served_file_that_is_not_a_model_is_rejected_by_its_format()
    {
        var html = Path.Combine(_dir.Path, "login.html");
        await File.WriteAllTextAsync(html, "<html>please log in</html>");
        _server.Serve("ggml-test.bin", html);
        using var http = new HttpClient();

        var error = await Assert.ThrowsAsync<ModelDownloadException>(() => new ModelDownloader(http).DownloadAsync(Whisper(), Path.Combine(_dir.Path, "models")));

        Assert.Contains("not usable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_without_a_published_checksum_records_one_and_verify_then_notices_corruption()
    {
        _server.Serve("tiny.gguf", TestPaths.LlamaTestModel);
        using var http = new HttpClient();
        var model = new CatalogModel("tiny", "gguf", "tiny.gguf", new Uri(_server.BaseUrl, "tiny.gguf"), null, null, null, string.Empty);

        var path = await new ModelDownloader(http).DownloadAsync(model, Path.Combine(_dir.Path, "models"));

        Assert.Equal(Sha(TestPaths.LlamaTestModel, "sha256"), File.ReadAllText(ModelCatalog.RecordedChecksumPath(path)).Trim());
        Assert.True(ModelCatalog.Verify(path, model).Ok);
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Position = file.Length - 10;
            file.WriteByte(0x5a);
        }

        var check = ModelCatalog.Verify(path, model);
        Assert.False(check.Ok);
        Assert.Contains("recorded at download", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cli_downloads_a_catalog_model_from_a_mirror_and_lists_it_installed()
    {
        _server.Serve("ggml-test.bin", TestPaths.WhisperTestModel);
        var catalog = _dir.File("catalog.yaml");
        await File.WriteAllTextAsync(catalog, $"models:\n  - {{ name: test-whisper, kind: whisper, file: ggml-test.bin, url: 'https://example.invalid/ggml-test.bin', sha1: {Sha(TestPaths.WhisperTestModel, "sha1")}, size_mib: 1, note: for tests }}\n");
        var config = _dir.File("config.yaml");
        await File.WriteAllTextAsync(config, $"models:\n  directory: {Path.Combine(_dir.Path, "models")}\n");

        var (code, output, error) = await VoiceHub.Tests.Cli.CliTests.Run("models", "download", "test-whisper", "--catalog", catalog, "--config", config, "--mirror", _server.BaseUrl.ToString());
        Assert.True(code == 0, error);
        Assert.Contains("SHA-1 matches", output, StringComparison.Ordinal);

        (code, output, _) = await VoiceHub.Tests.Cli.CliTests.Run("models", "list", "--catalog", catalog, "--config", config);
        Assert.Equal(0, code);
        Assert.Contains(output.Split('\n'), l => l.StartsWith("test-whisper", StringComparison.Ordinal) && l.Contains("installed", StringComparison.Ordinal));

        (code, output, _) = await VoiceHub.Tests.Cli.CliTests.Run("models", "verify", "--catalog", catalog, "--config", config);
        Assert.Equal(0, code);
        Assert.Contains(": OK: whisper", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Downloading_an_unknown_model_name_is_one_line_naming_it()
    {
        var (code, _, error) = await VoiceHub.Tests.Cli.CliTests.Run("models", "download", "whisper-enormous");

        Assert.Equal(2, code);
        Assert.Equal("voicehub models download: no model called 'whisper-enormous' (see voicehub models list)", error.TrimEnd());
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>Serves files on a loopback port, honouring Range, optionally cutting the first response short.</summary>
    private sealed class ModelServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Dictionary<string, (string Path, long? DropAfter)> _files = [];
        private readonly Task _loop;

        public ModelServer()
        {
            var port = FreePort();
            BaseUrl = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Add(BaseUrl.ToString());
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public Uri BaseUrl { get; }

        public List<string?> RangeHeaders { get; } = [];

        public void Serve(string name, string path, long? dropFirstResponseAfterBytes = null) => _files[name] = (path, dropFirstResponseAfterBytes);

        private static int FreePort()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                await AnswerAsync(context);
            }
        }

        private async Task AnswerAsync(HttpListenerContext context)
        {
            var response = context.Response;
            var name = context.Request.Url!.AbsolutePath.TrimStart('/');
            if (!_files.TryGetValue(name, out var file))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }

            var range = context.Request.Headers["Range"];
            lock (RangeHeaders)
            {
                RangeHeaders.Add(range);
            }

            var bytes = await File.ReadAllBytesAsync(file.Path);
            var from = range is null ? 0 : long.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            response.StatusCode = range is null ? 200 : 206;
            response.ContentLength64 = bytes.Length - from;
            try
            {
                if (file.DropAfter is { } drop)
                {
                    _files[name] = (file.Path, null);
                    await response.OutputStream.WriteAsync(bytes.AsMemory((int)from, (int)drop));
                    await response.OutputStream.FlushAsync();
                    response.Abort(); // the connection dies midway
                    return;
                }

                await response.OutputStream.WriteAsync(bytes.AsMemory((int)from));
                response.Close();
            }
            catch (HttpListenerException)
            {
                // the client went away
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
