namespace VoiceHub.Native;

/// <summary>The instruction-set flags the kernel reports for this CPU (<c>/proc/cpuinfo</c>).</summary>
public sealed class CpuFeatures
{
    private readonly HashSet<string> _flags;

    public CpuFeatures(IEnumerable<string> flags) => _flags = new HashSet<string>(flags, StringComparer.Ordinal);

    public IReadOnlySet<string> Flags => _flags;

    /// <summary>Reads the first processor's "flags" (x86) or "Features" (arm) line.</summary>
    public static CpuFeatures FromCpuInfo(string cpuInfoText)
    {
        foreach (var line in cpuInfoText.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            if (key is "flags" or "Features")
            {
                return new CpuFeatures(line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }

        return new CpuFeatures([]);
    }

    public static CpuFeatures ReadCurrent()
    {
        try
        {
            return FromCpuInfo(File.ReadAllText("/proc/cpuinfo"));
        }
        catch (IOException)
        {
            return new CpuFeatures([]);
        }
    }

    public bool HasAll(IEnumerable<string> required) => required.All(_flags.Contains);
}
