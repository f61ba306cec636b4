using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// A silo run as a child process (the built ControlPlane.Silo.dll under <c>dotnet</c>), so a test can SIGKILL it
/// like a crashed host. Its output goes to a log file next to its data directory. Disposing stops it.
/// </summary>
public sealed partial class SiloChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();

    private readonly string _logFile;

    private SiloChild(Process process, StreamWriter log, string logFile, int grpcPort, int siloPort)
    {
        _process = process;
        _log = log;
        _logFile = logFile;
        GrpcPort = grpcPort;
        SiloPort = siloPort;
    }

    public int GrpcPort { get; }
    public int SiloPort { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Runs one of the silo's offline commands (<c>catalog-restore</c>, <c>catalog-promote</c>) to its end and returns
    /// its exit code and output.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunVerbAsync(string verb, IEnumerable<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { SiloAssembly(), verb }.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {verb}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The silo assembly the test project's build produced (Debug or Release, as the tests were built).</summary>
    public static string SiloAssembly()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) continue;
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var dll = Path.Combine(dir.FullName, "silo", "ControlPlane.Silo", "bin", configuration, "net10.0", "ControlPlane.Silo.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"the silo is not built: {dll}");
        }
        throw new DirectoryNotFoundException($"no ControlPlane.sln above {AppContext.BaseDirectory}");
    }

    /// <param name="cgroupProcs">A cgroup's <c>cgroup.procs</c>: the silo joins it before it starts, so every socket
    /// and every process it starts belongs to it (<see cref="Hosts.NetworkPartition"/>).</param>
    public static SiloChild Start(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logFile, int grpcPort, int siloPort,
        string? cgroupProcs = null)
    {
        var start = new ProcessStartInfo(cgroupProcs is null ? "dotnet" : "/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (cgroupProcs is not null)
        {
            // exec keeps the pid: the shell joins the cgroup, then becomes the silo.
            foreach (var a in (string[])["-c", "echo $$ > \"$0\" && exec \"$@\"", cgroupProcs, "dotnet"]) start.ArgumentList.Add(a);
        }
        start.ArgumentList.Add(SiloAssembly());
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        var log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the silo");
        var child = new SiloChild(process, log, logFile, grpcPort, siloPort);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The last <paramref name="lines"/> lines the silo printed, for a failure message.</summary>
    public string LogTail(int lines = 40)
    {
        lock (_logLock)
        {
            try
            {
                using var read = new FileStream(_logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(read);
                var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                return string.Join('\n', all.TakeLast(lines));
            }
            catch (IOException ex)
            {
                return $"(log unreadable: {ex.Message})";
            }
        }
    }

    /// <summary>Throws, with the silo's last output, when the process has already exited: a wait on it is futile.</summary>
    public void ThrowIfExited()
    {
        if (_process.HasExited)
            throw new InvalidOperationException($"the silo exited with code {_process.ExitCode}; its last output:\n{LogTail()}");
    }

    /// <summary>
    /// Polls <paramref name="condition"/> (RPC errors count as "not yet") until it holds; fails at once when the silo
    /// exited, and after <paramref name="timeout"/> (3 minutes by default) with the silo's last output.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(3);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            ThrowIfExited();
            try
            {
                if (await condition()) return;
            }
            catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"condition not met within {limit}; the silo's last output:\n{LogTail()}");
            await Task.Delay(250);
        }
    }

    /// <summary>SIGKILL: the silo dies without leaving the cluster, as a crashed host does.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _ = SendSignal(_process.Id, 9);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM only: asks the silo to stop, as systemd or an operator does; see <see cref="WaitForExitAsync"/>.</summary>
    public void Terminate()
    {
        if (!_process.HasExited) _ = SendSignal(_process.Id, 15);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true when it did.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM (a clean stop that leaves the cluster), then SIGKILL after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, 15);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }
        lock (_logLock) _log.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_logLock)
        {
            if (_log.BaseStream.CanWrite) _log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
