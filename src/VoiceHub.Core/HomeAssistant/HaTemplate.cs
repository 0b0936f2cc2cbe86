using System.Globalization;
using System.Text;
using System.Text.Json;
using VoiceHub.Core.Devices;

namespace VoiceHub.Core.HomeAssistant;

/// <summary>A Home Assistant template outside the subset the hub evaluates.</summary>
public sealed class TemplateNotSupportedException(string template, string reason)
    : Exception($"template \"{template}\" is not supported: {reason}");

/// <summary>
/// The subset of Home Assistant's Jinja templates that MQTT discovery payloads use in practice
/// (zigbee2mqtt, Tasmota, ESPHome): <c>{{ value }}</c>, <c>{{ value_json.a.b }}</c>,
/// <c>{{ value_json['a'] }}</c>, a variable such as <c>{{ position }}</c>, and the filters
/// <c>int</c>, <c>float</c>, <c>round(n)</c>, <c>lower</c>, <c>upper</c>, <c>string</c>,
/// <c>default(x)</c>. Anything else (statements, arithmetic) is refused, so an entity whose
/// template cannot be read reports "unknown" instead of a wrong state.
/// </summary>
public static class HaTemplate
{
    /// <summary>Renders a template. <paramref name="value"/> is the payload (or the value a command carries).</summary>
    public static string Render(string template, string value, IReadOnlyDictionary<string, object>? variables = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.Contains("{%", StringComparison.Ordinal) || template.Contains("{#", StringComparison.Ordinal))
        {
            throw new TemplateNotSupportedException(template, "statements");
        }

        var output = new StringBuilder();
        JsonElement? json = null;
        var position = 0;
        while (position < template.Length)
        {
            var open = template.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                output.Append(template, position, template.Length - position);
                break;
            }

            var close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new TemplateNotSupportedException(template, "unclosed {{");
            }

            output.Append(template, position, open - position);
            var expression = template[(open + 2)..close].Trim();
            output.Append(Format(Evaluate(template, expression, value, ref json, variables)));
            position = close + 2;
        }

        return output.ToString();
    }

    private static object? Evaluate(string template, string expression, string value, ref JsonElement? json, IReadOnlyDictionary<string, object>? variables)
    {
        var parts = SplitFilters(expression);
        var result = Lookup(template, parts[0].Trim(), value, ref json, variables);
        foreach (var filter in parts.Skip(1).Select(p => p.Trim()))
        {
            result = ApplyFilter(template, filter, result);
        }

        return result;
    }

    private static List<string> SplitFilters(string expression)
    {
        var parts = new List<string>();
        var start = 0;
        char? quote = null;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            if (quote is not null)
            {
                quote = c == quote ? null : quote;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == '|')
            {
                parts.Add(expression[start..i]);
                start = i + 1;
            }
        }

        parts.Add(expression[start..]);
        return parts;
    }

    private static object? Lookup(string template, string path, string value, ref JsonElement? json, IReadOnlyDictionary<string, object>? variables)
    {
        var segments = PathSegments(template, path);
        object? current;
        switch (segments[0])
        {
            case "value":
                current = value;
                break;
            case "value_json":
                if (json is null)
                {
                    try
                    {
                        using var document = JsonDocument.Parse(value);
                        json = document.RootElement.Clone();
                    }
                    catch (JsonException)
                    {
                        return null; // a payload that is not JSON has no fields: "undefined", as in HA
                    }
                }

                current = json.Value;
                break;
            default:
                if (variables is null || !variables.TryGetValue(segments[0], out current))
                {
                    throw new TemplateNotSupportedException(template, $"unknown variable '{segments[0]}'");
                }

                break;
        }

        foreach (var segment in segments.Skip(1))
        {
            current = current is JsonElement { ValueKind: JsonValueKind.Object } element && element.TryGetProperty(segment, out var child)
                ? child
                : current is JsonElement { ValueKind: JsonValueKind.Array } array && int.TryParse(segment, out var index) && index >= 0 && index < array.GetArrayLength()
                    ? array[index]
                    : null;
        }

        return current;
    }

    private static List<string> PathSegments(string template, string path)
    {
        var segments = new List<string>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0)
                {
                    throw new TemplateNotSupportedException(template, "unclosed [");
                }

                segments.Add(path[(i + 1)..end].Trim().Trim('\'', '"'));
                i = end + 1;
            }
            else
            {
                var start = i;
                while (i < path.Length && (char.IsLetterOrDigit(path[i]) || path[i] == '_'))
                {
                    i++;
                }

                if (i == start)
                {
                    throw new TemplateNotSupportedException(template, $"unexpected '{path[i]}'");
                }

                segments.Add(path[start..i]);
            }
        }

        if (segments.Count == 0)
        {
            throw new TemplateNotSupportedException(template, "empty expression");
        }

        return segments;
    }

    private static object? ApplyFilter(string template, string filter, object? input)
    {
        var open = filter.IndexOf('(', StringComparison.Ordinal);
        var name = open < 0 ? filter : filter[..open].Trim();
        var argument = open < 0 ? null : filter[(open + 1)..filter.LastIndexOf(')')].Trim();
        var text = Format(input);
        switch (name)
        {
            case "int":
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var i) ? (long)Math.Truncate(i) : 0L;
            case "float":
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : 0.0;
            case "round":
                var digits = int.TryParse(argument, out var d) ? d : 0;
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? Math.Round(r, digits, MidpointRounding.ToEven) : input;
            case "lower":
                return text.ToLowerInvariant();
            case "upper":
                return text.ToUpperInvariant();
            case "string":
                return text;
            case "default" or "d":
                return input is null or JsonElement { ValueKind: JsonValueKind.Undefined } ? (argument ?? string.Empty).Trim('\'', '"') : input;
            default:
                throw new TemplateNotSupportedException(template, $"filter '{name}'");
        }
    }

    /// <summary>Formats a value as Jinja prints it (JSON strings unquoted, numbers invariant, True/False).</summary>
    public static string Format(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "True" : "False",
        double d => d == Math.Floor(d) && Math.Abs(d) < 1e15 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? string.Empty,
        JsonElement { ValueKind: JsonValueKind.True } => "True",
        JsonElement { ValueKind: JsonValueKind.False } => "False",
        JsonElement { ValueKind: JsonValueKind.Null } => "None",
        JsonElement e => e.GetRawText(),
        _ => value.ToString() ?? string.Empty,
    };
}
