using System.Globalization;
using System.Runtime.InteropServices;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Failover;

/// <summary>One process as <c>/proc/&lt;pid&gt;/stat</c> shows it.</summary>
/// <param name="State">R, S, D, T (stopped by SIGSTOP), Z (zombie), X (dead), ...</param>
public sealed record InstanceProcess(int Pid, int ParentPid, char State, ulong StartTime)
{
    /// <summary>A zombie holds no memory, no shared memory attachment and no files: for fencing it is gone.</summary>
    public bool IsGone => State is 'Z' or 'X';

    public bool IsFrozen => State is 'T' or 't';
}

/// <summary>
/// Finds every process of one instance through /proc, also when the postmaster is dead or frozen: the postmaster
/// (pid from postmaster.pid), its children (ppid), and orphans of a killed postmaster (every postgres process
/// chdirs into its data directory, so /proc/&lt;pid&gt;/cwd names it). Signals are sent with kill(2) directly,
/// which is what a fence needs: no process to spawn, works on stopped processes. Linux only.
/// </summary>
public static partial class InstanceProcesses
{
    private const int SigKill = 9;
    private const int SigCont = 18;
    private const int SigStop = 19;

    /// <summary>The live (not zombie) processes of the instance in <paramref name="dataDirectory"/>, postmaster first.</summary>
    public static IReadOnlyList<InstanceProcess> Find(string dataDirectory, int? postmasterPid)
    {
        EnsureLinux();
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDirectory));
        // A stale postmaster.pid may name a recycled pid, even another instance's process: trust it only when
        // that process runs in (or was started for) this data directory.
        var postmaster = postmasterPid is { } candidate && (Cwd(candidate) == full || StartedFor(candidate, full)) ? candidate : (int?)null;
        var found = new List<InstanceProcess>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId) continue;
            if (Read(pid) is not { } p || p.IsGone || Comm(pid) is not ("postgres" or "postmaster")) continue;
            if (pid == postmaster || (postmaster is { } pm && p.ParentPid == pm) || Cwd(pid) == full) found.Add(p);
        }
        return [.. found.OrderBy(p => p.Pid == postmaster ? 0 : 1).ThenBy(p => p.Pid)];
    }

    /// <summary>The process <paramref name="pid"/> as /proc shows it now, or null when it no longer exists.</summary>
    public static InstanceProcess? Read(int pid)
    {
        EnsureLinux();
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        // "pid (comm) S ppid ..." where comm may hold spaces and parentheses: fields restart after the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0 || close + 2 >= stat.Length) return null;
        var fields = stat[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state), fields[1] field 4 (ppid), fields[19] field 22 (starttime).
        return fields.Length > 19
               && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid)
               && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            ? new InstanceProcess(pid, ppid, fields[0][0], start)
            : null;
    }

    /// <summary>True when <paramref name="process"/> has exited (or is a zombie), also if its pid was reused since.</summary>
    public static bool HasExited(InstanceProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        return Read(process.Pid) is not { } now || now.StartTime != process.StartTime || now.IsGone;
    }

    /// <summary>Sends SIGKILL, SIGSTOP or SIGCONT; false when the process no longer exists.</summary>
    public static bool Signal(int pid, InstanceSignal signal)
    {
        EnsureLinux();
        var number = signal switch { InstanceSignal.Kill => SigKill, InstanceSignal.Stop => SigStop, _ => SigCont };
        if (Native.Kill(pid, number) == 0) return true;
        var errno = Marshal.GetLastPInvokeError();
        const int NoSuchProcess = 3;
        if (errno == NoSuchProcess) return false;
        throw new InvalidOperationException($"kill({pid.ToString(CultureInfo.InvariantCulture)}, {number.ToString(CultureInfo.InvariantCulture)}) failed with errno {errno.ToString(CultureInfo.InvariantCulture)}.");
    }

    private static string? Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The postmaster's command line (world-readable, unlike cwd) is <c>postgres -D &lt;data directory&gt; ...</c>.</summary>
    private static bool StartedFor(int pid, string dataDirectory)
    {
        try
        {
            var args = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0');
            return args.Select(Path.TrimEndingDirectorySeparator).Contains(dataDirectory, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static string? Cwd(int pid)
    {
        try { return new FileInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cwd").LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static void EnsureLinux()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("Instance process control reads /proc and needs Linux.");
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Kill(int pid, int signal);
    }
}
