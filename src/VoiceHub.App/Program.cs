using VoiceHub.App.Cli;

return await CliApplication.RunAsync(args);
