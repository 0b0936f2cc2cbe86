using System.Diagnostics;
using System.Globalization;
using System.Text;
using VoiceHub.Core.Audio;
using VoiceHub.Native;
using VoiceHub.Native.Pocketsphinx;

namespace VoiceHub.Core.Speech;

/// <summary>A recording to adapt the acoustic model on and the words said in it (lower case, dictionary words).</summary>
public sealed record AdaptationUtterance(string Name, float[] Audio, string Text);

/// <summary>
/// Adapts pocketsphinx's acoustic model to recordings: CMUSphinx's MLLR recipe with Debian's tools
/// (<c>sphinx_fe</c> for the features, sphinxtrain's <c>bw</c> for the statistics, <c>mllr_solve</c>
/// for the transform). The result is one transform of the Gaussian means, a few kilobytes, which
/// <see cref="PocketsphinxEngineOptions.AcousticAdaptation"/> applies when the model loads.
/// </summary>
public static class AcousticAdapter
{
    public const string Packages = "sphinxtrain sphinxbase-utils pocketsphinx";

    /// <summary>Recording time (10 ms frames) that must line up with its words: two commands' worth; one transform of the means needs little, but not nothing.</summary>
    public const int LeastFramesAligned = 500;
    private const string Sphinxtrain = "/usr/lib/sphinxtrain";

    /// <summary>
    /// Writes to <paramref name="output"/> the transform that best fits <paramref name="utterances"/>,
    /// moved toward no change by <paramref name="strength"/> (1: as solved, 0.5: half-way), and returns
    /// how many frames it was estimated on. A word no pronunciation is known for, or too little speech
    /// lined up with its words, is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static async Task<long> AdaptAsync(string modelDirectory, IReadOnlyList<AdaptationUtterance> utterances, IReadOnlyDictionary<string, string> extraWords,
        string output, double strength = 1, int leastFramesAligned = LeastFramesAligned, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(utterances);
        ArgumentNullException.ThrowIfNull(extraWords);
        ArgumentOutOfRangeException.ThrowIfLessThan(strength, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(strength, 1);
        if (utterances.Count == 0)
        {
            throw new ArgumentException("no recordings to adapt on", nameof(utterances));
        }

        var model = new PocketsphinxOptions { ModelDirectory = modelDirectory };
        var dictionary = await File.ReadAllTextAsync(model.Dictionary, cancellationToken).ConfigureAwait(false) + string.Concat(extraWords.Select(w => $"{w.Key} {w.Value}\n"));
        var known = dictionary.Split('\n').Select(l => l.Split(' ', 2)[0]).ToHashSet(StringComparer.Ordinal);
        if (utterances.SelectMany(u => u.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => (u.Name, Word: w))).FirstOrDefault(w => !known.Contains(w.Word)) is { Name: not null } unknown)
        {
            throw new InvalidDataException($"{unknown.Name}: '{unknown.Word}' is not in the pronunciation dictionary");
        }

        var work = Directory.CreateTempSubdirectory("voicehub-adapt-");
        try
        {
            string Work(string name) => Path.Combine(work.FullName, name);
            Directory.CreateDirectory(Work("wav"));
            var ids = new List<string>();
            var transcription = new StringBuilder();
            for (var i = 0; i < utterances.Count; i++)
            {
                var id = $"u{i:D5}";
                WavWriter.Write(Work($"wav/{id}.wav"), utterances[i].Audio);
                ids.Add(id);
                transcription.Append(CultureInfo.InvariantCulture, $"<s> {utterances[i].Text} </s> ({id})\n");
            }

            await File.WriteAllLinesAsync(Work("fileids"), ids, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Work("transcription"), transcription.ToString(), cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Work("dictionary"), dictionary, cancellationToken).ConfigureAwait(false);

            // bw reads the model's parts as sphinxtrain writes them: a text mdef and float mixture weights.
            Directory.CreateDirectory(Work("model"));
            foreach (var part in new[] { "means", "variances", "transition_matrices", "feat.params", "noisedict" })
            {
                File.Copy(Path.Combine(model.AcousticModel, part), Work($"model/{part}"));
            }

            var weights = Path.Combine(model.AcousticModel, "mixture_weights");
            if (File.Exists(weights))
            {
                File.Copy(weights, Work("model/mixture_weights"));
            }
            else
            {
                SendumpFile.WriteMixtureWeights(Path.Combine(model.AcousticModel, "sendump"), Work("model/mixture_weights"));
            }

            await RunAsync("pocketsphinx_mdef_convert", ["-text", Path.Combine(model.AcousticModel, "mdef"), Work("mdef.txt")], cancellationToken).ConfigureAwait(false);
            await RunAsync("sphinx_fe", ["-argfile", Work("model/feat.params"), "-samprate", "16000", "-c", Work("fileids"), "-di", Work("wav"), "-do", Work("mfc"),
                "-ei", "wav", "-eo", "mfc", "-mswav", "yes"], cancellationToken).ConfigureAwait(false);
            Directory.CreateDirectory(Work("counts"));
            var features = FeatureParameters(model.AcousticModel);
            List<string> training = ["-hmmdir", Work("model"), "-moddeffn", Work("mdef.txt"), "-ts2cbfn", $".{features.GetValueOrDefault("-model", "ptm")}.",
                "-feat", features.GetValueOrDefault("-feat", "1s_c_d_dd"), "-cmn", features.GetValueOrDefault("-cmn", "batch"), "-agc", features.GetValueOrDefault("-agc", "none"),
                "-dictfn", Work("dictionary"), "-fdictfn", Work("model/noisedict"), "-ctlfn", Work("fileids"), "-lsnfn", Work("transcription"), "-cepdir", Work("mfc"), "-accumdir", Work("counts")];
            if (features.TryGetValue("-svspec", out var subvectors))
            {
                training.AddRange(["-svspec", subvectors]);
            }

            var statistics = await RunAsync(Path.Combine(Sphinxtrain, "bw"), training, cancellationToken).ConfigureAwait(false);
            var frames = FramesAligned(statistics);
            if (frames < leastFramesAligned)
            {
                // mllr_solve still writes a transform from next to nothing, and it garbles every mean.
                throw new InvalidDataException($"only {frames / 100.0:0.0} s of the recordings lined up with their words: too little to adapt on (at least {leastFramesAligned / 100} s; more recordings, or the right words in --text)");
            }

            await RunAsync(Path.Combine(Sphinxtrain, "mllr_solve"), ["-meanfn", Work("model/means"), "-varfn", Work("model/variances"),
                "-outmllrfn", Work("transform.mllr"), "-accumdir", Work("counts")], cancellationToken).ConfigureAwait(false);

            var streams = MllrTransform.StreamLengths(model.AcousticModel);
            MllrTransform.Check(Work("transform.mllr"), streams);
            MllrTransform.Soften(Work("transform.mllr"), Work("softened.mllr"), strength);
            MllrTransform.Check(Work("softened.mllr"), streams);
            File.Copy(Work("softened.mllr"), output, overwrite: true); // a file the hub may be using is replaced only by a checked one
            return frames;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The model's feature parameters (<c>feat.params</c>: "-key value" pairs), which bw must extract the same way as the decoder.</summary>
    private static Dictionary<string, string> FeatureParameters(string acousticModel)
    {
        var words = File.ReadAllText(Path.Combine(acousticModel, "feat.params")).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < words.Length; i += 2)
        {
            parameters[words[i]] = words[i + 1];
        }

        return parameters;
    }

    /// <summary>bw's summary, "overall> stats FRAMES (-0) ..." (not always at a line's start: a skipped utterance leaves its line open).</summary>
    private static long FramesAligned(string log) =>
        System.Text.RegularExpressions.Regex.Matches(log, @"overall> stats (\d+)") is { Count: > 0 } found
        && long.TryParse(found[^1].Groups[1].Value, CultureInfo.InvariantCulture, out var count) ? count : 0;

    private static async Task<string> RunAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new NativeLibraryNotFoundException(Path.GetFileName(tool), "not installed", $"run: sudo apt-get install -y {Packages}");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var log = await output.ConfigureAwait(false) + await errors.ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                var reason = log.Split('\n').LastOrDefault(l => l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("FATAL", StringComparison.Ordinal))?.Trim();
                throw new NativeEngineException("acoustic adaptation", Path.GetFileName(tool), process.ExitCode, reason ?? "no error message");
            }

            return log;
        }
    }
}
