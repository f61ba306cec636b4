using System.Diagnostics;
using ControlPlane.Bench.Common;
using ControlPlane.Bench.Fleet;
using ControlPlane.Client;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.Bench.Failover;

/// <summary>
/// Starts a silo (child process, own data directory, one tier <c>oltp</c> with two standbys), then per trial: breaks
/// the primary (SIGKILL of the postmaster, SIGSTOP of every process) or asks for a switchover, and measures what a
/// client sees through <see cref="RoutedWriter"/>; then waits until the tier has converged before the next trial.
/// Last, short stalls that must not fail over (<see cref="FailoverStalls"/>).
/// </summary>
public static class FailoverRun
{
    public const string Tier = "oltp";

    public static async Task<FailoverResult> RunAsync(FailoverBenchSettings settings, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var loadBefore = MachineInfo.LoadAverage();
        Directory.CreateDirectory(settings.DataDirectory);
        await using var silo = SiloProcess.Start(settings.Silo, settings.DataDirectory, settings.LogFile,
            new Dictionary<string, string> { ["ControlPlane__LocalTiers__0"] = Tier, ["ControlPlane__StandbysPerTier"] = "2" });
        try
        {
            var token = await WaitForTokenAsync(Path.Combine(settings.DataDirectory, "admin.token"), silo, ct);
            using var client = new ControlPlaneClient(silo.GrpcEndpoint, new ControlPlaneClientOptions { Token = token, ConnectTimeout = TimeSpan.FromSeconds(1) });
            var passwordFile = Path.Combine(settings.DataDirectory, "secrets", $"{Tier}.superuser");
            var tier = await WaitConvergedAsync(client, TimeSpan.FromMinutes(5), ct)
                ?? throw new InvalidOperationException($"tier {Tier} never converged; see {settings.LogFile}");
            await CreateTableAsync(tier, passwordFile, ct);
            var tierSettings = await ApplyWindowAsync(client, settings, ct);
            await log.WriteLineAsync($"silo up, tier {Tier} converged (term {tier.Term}, primary {tier.Primary}); {settings.Trials} trials per scenario");

            await using var writer = RoutedWriter.Start(client.Failover, Tier, passwordFile);
            var trials = new Dictionary<string, IReadOnlyList<FailoverTrial>>();
            var summaries = new List<ScenarioSummary>();
            if (settings.Trials > 0)
            {
                trials["sigkill"] = await TrialsAsync("sigkill", settings, log, i => BreakPrimaryAsync(client, writer, settings, stop: false, ct), ct);
                trials["sigstop"] = await TrialsAsync("sigstop", settings, log, i => BreakPrimaryAsync(client, writer, settings, stop: true, ct), ct);
                trials["switchover"] = await TrialsAsync("switchover", settings, log, i => SwitchoverAsync(client, writer, settings, ct), ct);
                summaries.Add(ScenarioSummary.Of("SIGKILL primary postmaster", "kill → first acknowledged write on the new primary", 2000, trials["sigkill"]));
                summaries.Add(ScenarioSummary.Of("SIGSTOP all primary processes", "freeze → first acknowledged write on the new primary", 5000, trials["sigstop"]));
                summaries.Add(ScenarioSummary.Of("planned switchover", "longest gap between acknowledged writes", 1000, trials["switchover"]));
            }
            var stalls = await FailoverStalls.RunAsync(client, settings, passwordFile, r => DriverOf(settings, r),
                () => WaitConvergedAsync(client, settings.ConvergeTimeout, ct), log, ct);
            var window = tierSettings.FailureThreshold * tierSettings.ProbeIntervalMs;
            var described = $"probe_interval {tierSettings.ProbeIntervalMs} ms, probe_timeout {tierSettings.ProbeTimeoutMs} ms, failure_threshold {tierSettings.FailureThreshold} " +
                $"(window {window} ms), synchronous_mode {tierSettings.SynchronousMode}";
            return new FailoverResult(MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(), described, summaries, trials, stalls);
        }
        finally
        {
            await silo.StopAsync(TimeSpan.FromSeconds(60));
            if (!settings.Keep) TryDelete(settings.DataDirectory);
        }
    }

    private static async Task<IReadOnlyList<FailoverTrial>> TrialsAsync(
        string name, FailoverBenchSettings settings, TextWriter log, Func<int, Task<FailoverTrial>> trial, CancellationToken ct)
    {
        var results = new List<FailoverTrial>();
        for (var i = 1; i <= settings.Trials; i++)
        {
            ct.ThrowIfCancellationRequested();
            var result = await trial(i) with { Trial = i };
            results.Add(result);
            await log.WriteLineAsync($"{name} #{i}: {(result.Ms is { } ms ? $"{ms:F0} ms" : "no figure")} term {result.TermBefore}->{result.TermAfter} {result.OldPrimary}->{result.NewPrimary} {result.Note}");
        }
        return results;
    }

    /// <summary>SIGKILL of the postmaster, or SIGSTOP of every process until the term moves; time to the first write elsewhere.</summary>
    private static async Task<FailoverTrial> BreakPrimaryAsync(ControlPlaneClient client, RoutedWriter writer, FailoverBenchSettings settings, bool stop, CancellationToken ct)
    {
        var before = await WaitConvergedAsync(client, settings.ConvergeTimeout, ct) ?? throw new InvalidOperationException("tier not converged before the trial");
        var driver = DriverOf(settings, before.Primary);
        var t0 = Stopwatch.GetTimestamp();
        if (stop) await driver.SignalAllAsync(InstanceSignal.Stop, ct);
        else await driver.KillAsync(InstanceSignal.Kill, ct);
        Ack? first = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var thawed = !stop;
        while (first is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5, ct);
            first = writer.FirstAckElsewhere(t0, before.Primary);
            if (!thawed && (first is not null || DateTime.UtcNow >= deadline))
            {
                thawed = true;
            }
        }
        if (stop)
        {
            // Fenced by now (no process left), or the trial failed: thaw whatever is left either way.
            try { await driver.SignalAllAsync(InstanceSignal.Continue, ct); }
            catch (InvalidOperationException) { }
        }
        var after = await WaitConvergedAsync(client, settings.ConvergeTimeout, ct);
        var ms = first is null ? (double?)null : Stopwatch.GetElapsedTime(t0, first.Timestamp).TotalMilliseconds;
        return new FailoverTrial(0, ms, before.Term, after?.Term ?? -1, before.Primary, first?.Replica ?? "?",
            after is null ? "did not converge" : "");
    }

    /// <summary>A planned switchover while the writer writes: the longest write gap around it.</summary>
    private static async Task<FailoverTrial> SwitchoverAsync(ControlPlaneClient client, RoutedWriter writer, FailoverBenchSettings settings, CancellationToken ct)
    {
        var before = await WaitConvergedAsync(client, settings.ConvergeTimeout, ct) ?? throw new InvalidOperationException("tier not converged before the trial");
        var t0 = Stopwatch.GetTimestamp();
        var op = await client.Failover.SwitchoverAsync(new SwitchoverRequest { Tier = Tier }, cancellationToken: ct);
        while (op.State is not (OperationState.Succeeded or OperationState.Failed))
        {
            await Task.Delay(50, ct);
            op = await client.Failover.GetOperationAsync(new GetOperationRequest { OperationId = op.Id }, cancellationToken: ct);
        }
        // The gap closes with the first write on the new primary; give the writer a moment to get there.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        Ack? first = null;
        while (first is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
            first = writer.FirstAckElsewhere(t0, before.Primary);
        }
        var t1 = Stopwatch.GetTimestamp();
        var gap = first is null ? (double?)null : writer.LongestGap(t0, t1).TotalMilliseconds;
        var after = await WaitConvergedAsync(client, settings.ConvergeTimeout, ct);
        return new FailoverTrial(0, gap, before.Term, after?.Term ?? -1, before.Primary, first?.Replica ?? "?",
            op.State == OperationState.Succeeded ? "" : $"operation failed: {op.Error}");
    }

    private static LocalInstanceDriver DriverOf(FailoverBenchSettings settings, string replica) =>
        new(new LocalInstanceOptions(Tier, replica, Path.Combine(settings.DataDirectory, "fleet", Tier, replica, "data"), 0,
            Path.Combine(settings.DataDirectory, "secrets", $"{Tier}.superuser"), null), NullLogger.Instance);

    /// <summary>Healthy, every replica healthy, every standby streaming; null when not within <paramref name="timeout"/>.</summary>
    internal static async Task<Tier?> WaitConvergedAsync(ControlPlaneClient client, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var t = await client.Fleet.GetTierAsync(new GetTierRequest { Tier = Tier }, deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: ct);
                if (t.Health == TierHealth.Healthy && t.Replicas.All(r => r.Healthy)
                    && t.Replicas.Where(r => r.Name != t.Primary).All(r => r.Role == ReplicaRole.Standby && r.WalReceiverStatus == "streaming"))
                {
                    return t;
                }
            }
            catch (RpcException) when (!ct.IsCancellationRequested)
            {
            }
            await Task.Delay(200, ct);
        }
        return null;
    }

    /// <summary>Sets the failure window the run asks for (<c>cpctl ha TIER --failure-threshold N --probe-interval-ms MS</c>); answers the settings in force.</summary>
    private static async Task<FailoverSettings> ApplyWindowAsync(ControlPlaneClient client, FailoverBenchSettings settings, CancellationToken ct)
    {
        var current = await client.Failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = Tier }, cancellationToken: ct);
        if (settings.FailureThreshold is null && settings.ProbeInterval is null) return current;
        var wanted = current.Clone();
        if (settings.FailureThreshold is { } threshold) wanted.FailureThreshold = threshold;
        if (settings.ProbeInterval is { } interval) wanted.ProbeIntervalMs = (int)interval.TotalMilliseconds;
        return await client.Failover.SetFailoverSettingsAsync(new SetFailoverSettingsRequest { Tier = Tier, Settings = wanted }, cancellationToken: ct);
    }

    internal static async Task<string> WaitForTokenAsync(string path, SiloProcess silo, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            if (silo.HasExited) throw new InvalidOperationException($"the silo exited with {silo.ExitCode}; see {silo.LogFile}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} did not appear; see {silo.LogFile}");
            await Task.Delay(250, ct);
        }
        return (await File.ReadAllTextAsync(path, ct)).Trim();
    }

    private static async Task CreateTableAsync(Tier tier, string passwordFile, CancellationToken ct)
    {
        await using var connection = await OpenAsync(tier.Replicas.Single(r => r.Name == tier.Primary), passwordFile, ct);
        await using var command = new NpgsqlCommand(RoutedWriter.CreateTableSql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A superuser session on <paramref name="replica"/> (unpooled; commands may run for minutes: a CHECKPOINT of a big ballast).</summary>
    internal static async Task<NpgsqlConnection> OpenAsync(Replica replica, string passwordFile, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = replica.Host, Port = replica.Port, Database = "postgres", Username = "postgres",
            Password = (await File.ReadAllTextAsync(passwordFile, ct)).Trim(), Pooling = false, CommandTimeout = 600,
        }.ConnectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }
}
