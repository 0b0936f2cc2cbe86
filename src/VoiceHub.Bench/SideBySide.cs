using System.Diagnostics;
using System.Text.Json;

namespace VoiceHub.Bench;

/// <summary>Wall times of one contender over the rounds of a side-by-side run.</summary>
public sealed record Samples(string Name, IReadOnlyList<double> Milliseconds)
{
    public double Median
    {
        get
        {
            var sorted = Milliseconds.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
        }
    }

    public double Minimum => Milliseconds.Min();
}

/// <summary>One comparison: our measurement against a peer's on the same work.</summary>
public sealed record Comparison(string Work, Samples Ours, Samples Peer)
{
    /// <summary>Our median wall time over the peer's: 1.00 means we add nothing.</summary>
    public double Ratio => Ours.Median / Peer.Median;

    public double RatioOfMinimums => Ours.Minimum / Peer.Minimum;
}

/// <summary>
/// Runs two contenders alternately (A B B A ...) so drifting machine load and thermal state fall
/// on both alike, after a warm-up of each; timings are taken by the caller's functions.
/// </summary>
public static class SideBySide
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    public static async Task<Comparison> RunAsync(string work, int rounds, Func<Task<double>> ours, Func<Task<double>> peer)
    {
        await ours().ConfigureAwait(false);
        await peer().ConfigureAwait(false);
        var a = new List<double>();
        var b = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            if (round % 2 == 0)
            {
                a.Add(await ours().ConfigureAwait(false));
                b.Add(await peer().ConfigureAwait(false));
            }
            else
            {
                b.Add(await peer().ConfigureAwait(false));
                a.Add(await ours().ConfigureAwait(false));
            }
        }

        return new Comparison(work, new Samples("voicehub", a), new Samples("peer", b));
    }

    public static async Task<double> TimeAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action().ConfigureAwait(false);
        return clock.Elapsed.TotalMilliseconds;
    }

    public static void Print(TextWriter output, string title, IEnumerable<Comparison> comparisons)
    {
        output.WriteLine(title);
        output.WriteLine($"{"work",-44} {"ours ms",10} {"peer ms",10} {"ratio",7} {"min ratio",10}");
        foreach (var c in comparisons)
        {
            output.WriteLine($"{c.Work,-44} {c.Ours.Median,10:0.0} {c.Peer.Median,10:0.0} {c.Ratio,7:0.000} {c.RatioOfMinimums,10:0.000}");
        }
    }

    public static string Save(string suite, object report)
    {
        var directory = Path.Combine(RepositoryRoot(), "artifacts", "bench");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{suite}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(report, s_indented));
        return path;
    }

    public static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "VoiceHub.sln")))
            {
                return d.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}
