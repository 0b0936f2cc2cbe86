using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace VoiceHub.Core.Models;

/// <summary>A download that did not produce a good model file; the message names the model and what went wrong.</summary>
public sealed class ModelDownloadException(string message) : Exception(message);

/// <summary>How far a download is: bytes so far and, when the server says, in all.</summary>
public readonly record struct DownloadProgress(long Received, long? Total);

/// <summary>
/// Fetches a catalog model into the models directory: into NAME.partial first, resuming with an
/// HTTP Range request when a partial file is there (a dropped connection or a reboot does not
/// start a 466 MiB download over), then checks the format and the checksum, and only then renames
/// it to its final name. A bad download is deleted with a message saying what did not match.
/// </summary>
public sealed class ModelDownloader(HttpClient http, int attempts = 5)
{
    public async Task<string> DownloadAsync(CatalogModel model, string directory, IProgress<DownloadProgress>? progress = null, Uri? mirror = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        var target = Path.Combine(directory, model.File);
        var partial = target + ".partial";
        var url = mirror is null ? model.Url : new Uri(mirror, model.File);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await FetchAsync(url, partial, progress, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException && attempt < attempts && !cancellationToken.IsCancellationRequested)
            {
                // The partial file stays: the next attempt resumes where this one stopped.
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                throw new ModelDownloadException($"{model.Name}: download from {url} failed after {attempts} attempts ({e.Message}); run the command again to resume");
            }
        }

        var check = ModelCatalog.Verify(partial, model);
        if (!check.Ok)
        {
            File.Delete(partial);
            throw new ModelDownloadException($"{model.Name}: the downloaded file is not usable: {check.Detail}");
        }

        if (model.Sha1 is null && model.Sha256 is null)
        {
            await File.WriteAllTextAsync(ModelCatalog.RecordedChecksumPath(target), ModelCatalog.Hash(partial, "sha256") + "\n", cancellationToken).ConfigureAwait(false);
        }

        File.Move(partial, target, overwrite: true);
        return target;
    }

    private async Task FetchAsync(Uri url, string partial, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0)
        {
            request.Headers.Range = new RangeHeaderValue(have, null);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            return; // already complete
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new ModelDownloadException($"{url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        var resuming = response.StatusCode == HttpStatusCode.PartialContent;
        var total = response.Content.Headers.ContentLength is { } length ? length + (resuming ? have : 0) : (long?)null;
        await using var file = new FileStream(partial, resuming ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var received = resuming ? have : 0;
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            received += read;
            progress?.Report(new DownloadProgress(received, total));
        }

        if (total is { } expected && received < expected)
        {
            throw new IOException($"the connection closed after {received} of {expected} bytes");
        }
    }
}
