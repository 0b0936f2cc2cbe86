using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoiceHub.Core.Models;
using VoiceHub.Core.Mqtt;

namespace VoiceHub.Core.Configuration;

/// <summary>Binds every subsystem's sealed options class to its configuration section, validated on start.</summary>
public static class OptionsRegistration
{
    public static IServiceCollection AddVoiceHubOptions(this IServiceCollection services, IConfiguration configuration)
    {
        var schema = new ConfigurationSchema();
        // Registered first, so a misspelt section or key is reported as such before any section binds.
        services.AddSingleton<IValidateOptions<ConfigurationSchema>>(new ConfigurationSchema.Validator(configuration));
        services.AddOptions<ConfigurationSchema>().Configure(s => s.CopyFrom(schema)).ValidateOnStart();

        // Each Bind names its type (the binding source generator needs that); Section records it in the schema.
        services.AddOptions<ModelsOptions>().Bind(Section(ModelsOptions.Section, typeof(ModelsOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MqttOptions>().Bind(Section(MqttOptions.Section, typeof(MqttOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Speech.SpeechOptions>().Bind(Section(Speech.SpeechOptions.Section, typeof(Speech.SpeechOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Speech.WhisperEngineOptions>().Bind(Section("speech:whisper", typeof(Speech.WhisperEngineOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Speech.PocketsphinxEngineOptions>().Bind(Section("speech:pocketsphinx", typeof(Speech.PocketsphinxEngineOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<Speech.PocketsphinxEngineOptions>, Speech.PocketsphinxEngineOptions.AdaptationValidator>();
        services.AddOptions<Intents.Slm.SlmOptions>().Bind(Section(Intents.Slm.SlmOptions.Section, typeof(Intents.Slm.SlmOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Hosting.HubOptions>().Bind(Section(Hosting.HubOptions.Section, typeof(Hosting.HubOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Audio.AudioOptions>().Bind(Section(Audio.AudioOptions.Section, typeof(Audio.AudioOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Wake.WakeOptions>().Bind(Section(Wake.WakeOptions.Section, typeof(Wake.WakeOptions)), Checked).ValidateDataAnnotations().ValidateOnStart()
            .PostConfigure(o =>
            {
                if (o.Phrases.Count == 0)
                {
                    o.Phrases.Add(new Wake.WakePhrase());
                }
            });
        services.AddOptions<Pipeline.PipelineOptions>().Bind(Section(Pipeline.PipelineOptions.Section, typeof(Pipeline.PipelineOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Pipeline.SpeakerOptions>().Bind(Section(Pipeline.SpeakerOptions.Section, typeof(Pipeline.SpeakerOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Gpio.GpioOptions>().Bind(Section(Gpio.GpioOptions.Section, typeof(Gpio.GpioOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Thermal.SchedulerOptions>().Bind(Section(Thermal.SchedulerOptions.Section, typeof(Thermal.SchedulerOptions)), Checked).ValidateDataAnnotations().ValidateOnStart();
        return services;

        IConfigurationSection Section(string path, Type options)
        {
            schema.Add(path, options);
            return configuration.GetSection(path);
        }
    }

    // Unknown keys are the schema's to report (it names the key and suggests the right one); the
    // binder's own check would throw first, with a message about its options instead.
    private static void Checked(BinderOptions options) => options.ErrorOnUnknownConfiguration = false;
}
