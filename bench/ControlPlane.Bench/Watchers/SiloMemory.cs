using System.Globalization;

namespace ControlPlane.Bench.Watchers;

/// <summary>The silo's resident set size, read from /proc (the silo runs on this machine for every bench here).</summary>
public static class SiloMemory
{
    /// <summary>VmRSS of <paramref name="pid"/> in KiB, or null without a pid or off Linux.</summary>
    public static long? RssKiB(int? pid)
    {
        if (pid is not { } p) return null;
        try
        {
            var line = File.ReadLines($"/proc/{p}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
