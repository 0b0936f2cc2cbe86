using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace VoiceHub.Core.Configuration;

/// <summary>Binds every subsystem's sealed options class to its configuration section, validated on start.</summary>
public static class OptionsRegistration
{
    public static IServiceCollection AddVoiceHubOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ModelsOptions>().Bind(configuration.GetSection(ModelsOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MqttOptions>().Bind(configuration.GetSection(MqttOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Speech.SpeechOptions>().Bind(configuration.GetSection(Speech.SpeechOptions.Section), o => o.ErrorOnUnknownConfiguration = false).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Speech.WhisperEngineOptions>().Bind(configuration.GetSection("speech:whisper"), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Speech.PocketsphinxEngineOptions>().Bind(configuration.GetSection("speech:pocketsphinx"), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Intents.Slm.SlmOptions>().Bind(configuration.GetSection(Intents.Slm.SlmOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Hosting.HubOptions>().Bind(configuration.GetSection(Hosting.HubOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Audio.AudioOptions>().Bind(configuration.GetSection(Audio.AudioOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Wake.WakeOptions>().Bind(configuration.GetSection(Wake.WakeOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart()
            .PostConfigure(o =>
            {
                if (o.Phrases.Count == 0)
                {
                    o.Phrases.Add(new Wake.WakePhrase());
                }
            });
        services.AddOptions<Pipeline.PipelineOptions>().Bind(configuration.GetSection(Pipeline.PipelineOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Pipeline.SpeakerOptions>().Bind(configuration.GetSection(Pipeline.SpeakerOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Gpio.GpioOptions>().Bind(configuration.GetSection(Gpio.GpioOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Thermal.SchedulerOptions>().Bind(configuration.GetSection(Thermal.SchedulerOptions.Section), Strict).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    // A misspelt key in the YAML is an error, not a silently ignored setting.
    private static void Strict(BinderOptions options) => options.ErrorOnUnknownConfiguration = true;
}
