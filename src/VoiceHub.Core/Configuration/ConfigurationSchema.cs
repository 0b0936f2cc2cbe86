using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace VoiceHub.Core.Configuration;

/// <summary>
/// The shape of the configuration: which sections exist and, through each options class, which keys
/// and what kind of value (a single value, a list, a mapping) each takes. The binder alone ignores a
/// misspelt section (<c>mqqt:</c>) and a single value given where a list belongs (<c>phrases: jarvis</c>);
/// checked against this, both are one error naming the key.
/// </summary>
public sealed class ConfigurationSchema
{
    // What the Generic Host itself puts into the configuration it shares with the appliance's sections.
    private static readonly HashSet<string> s_hostKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        Microsoft.Extensions.Hosting.HostDefaults.ContentRootKey, Microsoft.Extensions.Hosting.HostDefaults.EnvironmentKey, Microsoft.Extensions.Hosting.HostDefaults.ApplicationKey,
    };

    private readonly Dictionary<string, Type> _sections = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyDictionary<string, Type> Sections => _sections;

    public void Add(string path, Type options) => _sections.Add(path, options);

    internal void CopyFrom(ConfigurationSchema other)
    {
        foreach (var (path, type) in other._sections)
        {
            _sections.TryAdd(path, type);
        }
    }

    /// <summary>Every problem with the configuration's keys, each naming the key (empty when it fits).</summary>
    public IReadOnlyList<string> Check(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        var topLevel = _sections.Keys.Select(p => p.Split(':')[0]).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToList();
        foreach (var section in configuration.GetChildren())
        {
            if (!topLevel.Contains(section.Key, StringComparer.OrdinalIgnoreCase) && !s_hostKeys.Contains(section.Key))
            {
                problems.Add($"unknown section '{section.Key}'{Suggest(section.Key, topLevel)} (sections: {string.Join(", ", topLevel)})");
            }
        }

        foreach (var (path, type) in _sections)
        {
            var nested = _sections.Keys.Where(p => p.StartsWith(path + ":", StringComparison.OrdinalIgnoreCase)).Select(p => p[(path.Length + 1)..]).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var section = configuration.GetSection(path);
            if (section.Value is { Length: > 0 } && !section.GetChildren().Any())
            {
                problems.Add($"'{path}' must be a mapping of settings, not the single value '{section.Value}'");
                continue;
            }

            CheckMapping(section, type, path, nested, problems);
        }

        return problems;
    }

    private static void CheckMapping(IConfigurationSection section, Type type, string path, HashSet<string> nested, List<string> problems)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetMethod is not null).ToList();
        foreach (var child in section.GetChildren())
        {
            if (nested.Contains(child.Key))
            {
                continue;
            }

            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                var names = properties.Select(p => CamelCase(p.Name)).Concat(nested).Order(StringComparer.Ordinal).ToList();
                problems.Add($"'{path}:{child.Key}' is not a setting{Suggest(child.Key, names)} ({path}: {string.Join(", ", names)})");
                continue;
            }

            CheckValue(child, property.PropertyType, $"{path}:{child.Key}", problems);
        }
    }

    private static void CheckValue(IConfigurationSection node, Type type, string path, List<string> problems)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var hasChildren = node.GetChildren().Any();
        if (IsScalar(type))
        {
            if (hasChildren)
            {
                problems.Add($"'{path}' must be a single value, not a list or mapping");
            }

            return;
        }

        var hasValue = node.Value is { Length: > 0 } && !hasChildren;
        if (DictionaryValueType(type) is { } valueType)
        {
            if (hasValue)
            {
                problems.Add($"'{path}' must be a mapping, not the single value '{node.Value}'");
            }

            foreach (var child in node.GetChildren())
            {
                CheckValue(child, valueType, $"{path}:{child.Key}", problems);
            }

            return;
        }

        if (ElementType(type) is { } elementType)
        {
            if (hasValue)
            {
                problems.Add($"'{path}' must be a list (for one item: [{node.Value}] or '- {node.Value}'), not the single value '{node.Value}'");
            }

            foreach (var child in node.GetChildren())
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    problems.Add($"'{path}' must be a list, but has the key '{child.Key}'");
                    continue;
                }

                CheckValue(child, elementType, $"{path}:{child.Key}", problems);
            }

            return;
        }

        if (hasValue)
        {
            problems.Add($"'{path}' must be a mapping of settings, not the single value '{node.Value}'");
            return;
        }

        CheckMapping(node, type, path, new HashSet<string>(), problems);
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);

    private static Type? DictionaryValueType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(Dictionary<,>) || d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>))
            ? type.GetGenericArguments()[1]
            : null;

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0]
        : null;

    /// <summary>A property as the configuration files spell it (<c>MaxReconnectDelay</c> as <c>maxReconnectDelay</c>).</summary>
    private static string CamelCase(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static string Suggest(string key, IEnumerable<string> names)
    {
        var best = names.Select(n => (Name: n, Distance: Distance(key.ToLowerInvariant(), n.ToLowerInvariant()))).OrderBy(x => x.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(1, key.Length / 3) ? $" (did you mean '{best.Name}'?)" : string.Empty;
    }

    /// <summary>Edits between two keys, a swap of neighbours counting as one (the commonest typo: "modle").</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    internal sealed class Validator(IConfiguration configuration) : IValidateOptions<ConfigurationSchema>
    {
        public ValidateOptionsResult Validate(string? name, ConfigurationSchema options) =>
            options.Check(configuration) is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
