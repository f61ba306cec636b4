using System.Diagnostics;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// A process of an anchor (etcd, Patroni, pg_autoctl) started as the <c>postgres</c> user (PostgreSQL refuses to run
/// as root) through <c>setpriv</c>, which execs, so the pid is the agent's own. Its output goes to a log file; the run's
/// marker variable rides in its environment so every descendant can be found and stopped at the end.
/// </summary>
public sealed class AgentProcess
{
    private readonly Process _process;

    private AgentProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public static AgentProcess Start(string name, string file, IEnumerable<string> arguments, string logFile, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        var start = new ProcessStartInfo
        {
            FileName = "setpriv",
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(logFile)!,
        };
        foreach (var a in new[] { "--reuid", "postgres", "--regid", "postgres", "--init-groups", "--", file }) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var gate = new Lock();
        void Append(string? line)
        {
            if (line is null) return;
            lock (gate) log.WriteLine(line);
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Exited += (_, _) => { lock (gate) log.Flush(); };
        if (!process.Start()) throw new InvalidOperationException($"could not start {file}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new AgentProcess(process, name);
    }

    /// <summary>SIGKILL of the agent and every process under it (its PostgreSQL included), all collected before the first signal.</summary>
    public int KillTree() => _process.HasExited ? 0 : ProcessTree.Signal(Pid, UnixSignals.SigKill);

    /// <summary>Runs a short command as <c>postgres</c> to completion; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(environment);
        var start = new ProcessStartInfo { FileName = "setpriv", UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--reuid", "postgres", "--regid", "postgres", "--init-groups", "--", file }) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(timeout);
        try { await process.WaitForExitAsync(bound.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList.Skip(6))} did not finish within {timeout.TotalSeconds:F0} s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
