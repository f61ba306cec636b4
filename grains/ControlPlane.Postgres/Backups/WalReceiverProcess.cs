using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// One long-running pg_receivewal. As root it is started through <c>setpriv</c>, which drops to the postgres user
/// and execs in place (runuser forks and waits instead): the pid we hold is pg_receivewal's own, so the pid file
/// names it and a signal reaches it without forwarding. Only the tail of stderr is kept; stdout is discarded.
/// </summary>
internal sealed class WalReceiverProcess : IDisposable
{
    public const string ToolName = "pg_receivewal";
    private const string SetprivPath = "/usr/bin/setpriv";
    private const int TailLines = 12;

    private readonly Process _process;
    private readonly Queue<string> _stderr = new();

    private WalReceiverProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    /// <summary>Starts <paramref name="tool"/> with <paramref name="arguments"/>, as the postgres user when root.</summary>
    public static WalReceiverProcess Start(string tool, IReadOnlyList<string> arguments)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (OsUser.IsRoot)
        {
            psi.FileName = SetprivPath;
            // --reset-env: HOME and PATH of the postgres user, nothing of ours (libpq looks under HOME for its files).
            foreach (var a in (string[])["--reuid", OsUser.PostgresUser, "--regid", OsUser.PostgresUser, "--init-groups", "--reset-env", "--", tool])
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            psi.FileName = tool;
        }
        foreach (var a in arguments) psi.ArgumentList.Add(a);

        var process = new Process { StartInfo = psi };
        var receiver = new WalReceiverProcess(process);
        process.ErrorDataReceived += (_, e) => receiver.Remember(e.Data);
        process.OutputDataReceived += (_, _) => { };
        try
        {
            if (!process.Start()) throw new ProcessFailedException($"could not start '{tool}'");
            process.StandardInput.Close();
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            return receiver;
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the exit and returns its code.</summary>
    public async Task<int> WaitAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>The last lines pg_receivewal wrote to stderr (it never prints the password: that stays in the passfile).</summary>
    public string StderrTail()
    {
        lock (_stderr) return _stderr.Count == 0 ? "(no output)" : string.Join(" | ", _stderr);
    }

    /// <summary>SIGINT (pg_receivewal closes its file and exits 0), then SIGKILL after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        await ProcessRunner.RunAsync(
            new ProcessSpec("kill", ["-s", "INT", Pid.ToString(CultureInfo.InvariantCulture)]) { Timeout = TimeSpan.FromSeconds(10) },
            CancellationToken.None).ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { _process.Kill(); } catch (InvalidOperationException) { }
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Dispose() => _process.Dispose();

    /// <summary>
    /// Kills every pg_receivewal writing into <paramref name="walDirectory"/>: the one named by the pid file when its
    /// command line proves it is one (a recycled pid may be anything), and any other found in /proc (a silo killed
    /// between starting one and writing its pid). They are orphans of an earlier run: two receivers on one directory
    /// would interleave their writes.
    /// </summary>
    /// <returns>The pids killed.</returns>
    public static async Task<IReadOnlyList<int>> KillOrphansAsync(string pidFile, string walDirectory, CancellationToken ct)
    {
        var killed = new List<int>();
        foreach (var pid in Candidates(pidFile).Where(p => IsReceiverFor(p, walDirectory)))
        {
            if (InstanceProcesses.Read(pid) is not { } process || !InstanceProcesses.Signal(pid, InstanceSignal.Kill)) continue;
            killed.Add(pid);
            for (var i = 0; i < 100 && !InstanceProcesses.HasExited(process); i++) await Task.Delay(50, ct).ConfigureAwait(false);
        }
        return killed;
    }

    /// <summary>True when <paramref name="pid"/> is a pg_receivewal whose command line names <paramref name="walDirectory"/>.</summary>
    public static bool IsReceiverFor(int pid, string walDirectory)
    {
        string[] args;
        try { args = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0'); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        var directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(walDirectory));
        return args.Length > 1
               && Path.GetFileName(args[0]) == ToolName
               && args.Any(a => Path.TrimEndingDirectorySeparator(a) == directory || a == "--directory=" + directory);
    }

    private static IEnumerable<int> Candidates(string pidFile)
    {
        var pids = new SortedSet<int>();
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var recorded))
        {
            pids.Add(recorded);
        }
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId) pids.Add(pid);
        }
        return pids;
    }

    private void Remember(string? line)
    {
        if (string.IsNullOrWhiteSpace(line)) return;
        lock (_stderr)
        {
            _stderr.Enqueue(line.Trim());
            while (_stderr.Count > TailLines) _stderr.Dequeue();
        }
    }
}
