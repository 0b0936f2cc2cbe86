using System.CommandLine;

namespace VoiceHub.Bench;

/// <summary><c>voicehub bench SUITE</c>: every speed and memory target, measured side by side with a peer.</summary>
public static class BenchCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("VoiceHub benchmarks; results print as tables and land in artifacts/bench/");
        root.Subcommands.Add(NativeBench.Command());
        root.Subcommands.Add(IntentsBench.Command());
        root.Subcommands.Add(MqttBench.Command());
        root.Subcommands.Add(PipelineBench.Create());
        root.Subcommands.Add(PipelineBench.CreateSoak());
        root.Subcommands.Add(FloodBench.Create());
        root.Subcommands.Add(ModelSizeBench.Slm());
        root.Subcommands.Add(ModelSizeBench.Stt());
        root.Subcommands.Add(WakeBench.Create());
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"voicehub bench: {parse.Errors[0].Message}").ConfigureAwait(false);
            return 2;
        }

        return await parse.InvokeAsync().ConfigureAwait(false);
    }
}
