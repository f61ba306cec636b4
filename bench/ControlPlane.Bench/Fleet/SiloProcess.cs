using System.Diagnostics;
using System.Globalization;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Fleet;

/// <summary>How a silo stopped: how long SIGTERM took, whether it had to be killed, what it left running.</summary>
public sealed record SiloStop(double Seconds, int? ExitCode, bool Killed, int LeftoverPostmasters);

/// <summary>
/// A silo started as a child process on loopback ports of our choosing. Its output goes to a log file, each line
/// prefixed with the seconds since launch, so slow start-up steps can be read off afterwards. Disposing stops it.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly long _started;
    private readonly Lock _logLock = new();

    private SiloProcess(Process process, StreamWriter log, long started, DateTimeOffset launchedAt, Uri endpoint, string dataDirectory, string logFile)
    {
        _process = process;
        _log = log;
        _started = started;
        LaunchedAt = launchedAt;
        GrpcEndpoint = endpoint;
        DataDirectory = dataDirectory;
        LogFile = logFile;
    }

    public Uri GrpcEndpoint { get; }
    public string DataDirectory { get; }
    public string LogFile { get; }
    /// <summary>Wall-clock time of the launch, to tell this run's probes from those a previous run persisted.</summary>
    public DateTimeOffset LaunchedAt { get; }
    public bool HasExited => _process.HasExited;
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Time since the process was launched (the clock of a cold-start measurement).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    /// <summary>Launches <paramref name="silo"/> on free loopback ports with <paramref name="dataDirectory"/>.</summary>
    /// <param name="environment">Extra environment variables, e.g. <c>ControlPlane__LocalTiers__0</c> for a smaller fleet.</param>
    public static SiloProcess Start(FileInfo silo, string dataDirectory, string logFile, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var grpcPort = LoopbackPorts.Free();
        var metricsPort = LoopbackPorts.Free();
        var start = new ProcessStartInfo
        {
            FileName = silo.Extension == ".dll" ? "dotnet" : silo.FullName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = silo.DirectoryName ?? Environment.CurrentDirectory,
        };
        if (silo.Extension == ".dll") start.ArgumentList.Add(silo.FullName);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        foreach (var arg in new[] { "--data-dir", dataDirectory, "--grpc-port", P(grpcPort), "--metrics-port", P(metricsPort), "--listen", "127.0.0.1" })
        {
            start.ArgumentList.Add(arg);
        }

        var log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var launchedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        if (!process.Start())
        {
            log.Dispose();
            throw new InvalidOperationException($"could not start the silo '{silo.FullName}'.");
        }
        var running = new SiloProcess(process, log, started, launchedAt, new Uri($"http://127.0.0.1:{P(grpcPort)}"), dataDirectory, logFile);
        process.OutputDataReceived += (_, e) => running.Append(e.Data);
        process.ErrorDataReceived += (_, e) => running.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>SIGTERM, then wait up to <paramref name="timeout"/>; SIGKILL after that. Then stops any postmaster it left.</summary>
    public async Task<SiloStop> StopAsync(TimeSpan timeout)
    {
        var begin = Stopwatch.GetTimestamp();
        var killed = false;
        if (!_process.HasExited)
        {
            UnixSignals.Send(_process.Id, UnixSignals.SigTerm);
            using var wait = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                killed = true;
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }
        // Let the asynchronous readers drain the last lines before the log closes.
        _process.WaitForExit();
        var seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        var leftovers = await PostmasterSweep.StopLeftoversAsync(DataDirectory, TimeSpan.FromSeconds(30));
        Append(string.Create(CultureInfo.InvariantCulture,
            $"[bench] silo exited with {_process.ExitCode} {seconds:F2}s after SIGTERM{(killed ? " (killed)" : "")}; leftover postmasters: {leftovers}"));
        return new SiloStop(Math.Round(seconds, 3), _process.ExitCode, killed, leftovers);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await StopAsync(TimeSpan.FromSeconds(60));
        lock (_logLock) _log.Dispose();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        var at = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        lock (_logLock)
        {
            if (_log.BaseStream.CanWrite) _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{at,8:F3}s] {line}"));
        }
    }

    private static string P(int port) => port.ToString(CultureInfo.InvariantCulture);
}
