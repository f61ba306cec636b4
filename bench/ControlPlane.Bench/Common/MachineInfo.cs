using System.Runtime.InteropServices;

namespace ControlPlane.Bench.Common;

/// <summary>Where a benchmark ran: enough to tell two result files apart and to judge their noise.</summary>
public sealed record MachineInfo(string Host, int Processors, long MemoryMiB, string Runtime, string Os, DateTimeOffset At)
{
    public static MachineInfo Capture() => new(
        Environment.MachineName,
        Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024),
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription,
        DateTimeOffset.UtcNow);

    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg, or "unknown" off Linux.</summary>
    public static string LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', parts.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
