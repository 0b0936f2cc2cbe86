using VoiceHub.Bench;

return await BenchCli.RunAsync(args);
