using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoiceHub.Core.Configuration;

namespace VoiceHub.App.Cli;

/// <summary>
/// The configuration every verb starts from: the embedded defaults (the options classes' own
/// values), then the YAML file given with --config, then VOICEHUB__SECTION__KEY variables.
/// </summary>
public sealed class AppConfiguration : IDisposable
{
    private readonly ServiceProvider _services;

    private AppConfiguration(IConfigurationRoot root, ServiceProvider services)
    {
        Root = root;
        _services = services;
    }

    public IConfigurationRoot Root { get; }

    public static AppConfiguration Load(string? configFile)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            builder.AddYamlFile(Path.GetFullPath(configFile), optional: false);
        }

        builder.AddEnvironmentVariables("VOICEHUB__");
        var root = builder.Build();
        var services = new ServiceCollection().AddVoiceHubOptions(root).BuildServiceProvider();
        var configuration = new AppConfiguration(root, services);
        try
        {
            configuration.ValidateAll(); // every verb: a misspelt or misshapen key is an error naming it, wherever it is
        }
        catch
        {
            configuration.Dispose();
            throw;
        }

        return configuration;
    }

    /// <summary>One subsystem's options, bound and validated; a bad value names its section and key.</summary>
    public T Get<T>()
        where T : class
    {
        try
        {
            return _services.GetRequiredService<IOptions<T>>().Value;
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationFileException($"configuration: {e.Message}", e);
        }
    }

    /// <summary>Binds and validates every subsystem's options, as the worker does at start.</summary>
    public void ValidateAll()
    {
        try
        {
            _services.GetRequiredService<IStartupValidator>().Validate();
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationFileException($"configuration: {e.Message}", e);
        }
        catch (AggregateException e)
        {
            // Several sections failed: all of them on the one line, so one edit can fix them all.
            throw new ConfigurationFileException($"configuration: {string.Join("; ", e.Flatten().InnerExceptions.Select(x => x.Message))}", e);
        }
    }

    public void Dispose() => _services.Dispose();
}
