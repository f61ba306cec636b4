using System.Diagnostics;
using System.Globalization;
using ControlPlane.Bench.Backups;
using ControlPlane.Bench.Common;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;
using Npgsql;

namespace ControlPlane.Bench.Monitoring;

/// <summary>The cost of one family's cycle: wall time, the server backend's CPU and this process's CPU, per cycle.</summary>
public sealed record FamilyCost(LatencySummary Wall, double ServerCpuMsPerCycle, double ClientCpuMsPerCycle);

public sealed record SamplingResult(int Scale, int ExtraTables, int Statements, FamilyCost Cheap, FamilyCost Heavy)
{
    public string Render() => string.Create(CultureInfo.InvariantCulture, $"""
        monitored primary: pgbench scale {Scale}, {ExtraTables} extra tables, {Statements} statements in pg_stat_statements
        cheap cycle: wall p50 {Cheap.Wall.P50Ms:0.0} ms, p90 {Cheap.Wall.P90Ms:0.0} ms; server backend CPU {Cheap.ServerCpuMsPerCycle:0.0} ms/cycle; sampler CPU {Cheap.ClientCpuMsPerCycle:0.0} ms/cycle ({Cheap.Wall.Count} cycles)
        heavy cycle: wall p50 {Heavy.Wall.P50Ms:0.0} ms, p90 {Heavy.Wall.P90Ms:0.0} ms; server backend CPU {Heavy.ServerCpuMsPerCycle:0.0} ms/cycle; sampler CPU {Heavy.ClientCpuMsPerCycle:0.0} ms/cycle ({Heavy.Wall.Count} cycles)
        """);
}

/// <summary>
/// Runs the replica sampler's own code (<see cref="PerfInspector"/> and <see cref="PerfReadings"/>) in a loop against
/// a real primary. Server CPU is read from /proc of the one backend serving the sampler's connection (utime + stime,
/// in clock ticks of 10 ms, so per-cycle figures are averages over many cycles).
/// </summary>
public static class SamplingRun
{
    private const double MsPerClockTick = 10;

    public static async Task<SamplingResult> RunAsync(BenchWorkspace workspace, int scale, int tables, int cycles, int heavyCycles, TextWriter log, CancellationToken ct)
    {
        var endpoint = await PrepareAsync(workspace, scale, tables, log, ct);

        await using var inspector = new PerfInspector(endpoint, TimeSpan.FromSeconds(30));
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = "bench", ["tier"] = BenchPrimary.Tier, ["replica"] = "primary" };
        // One warm-up of each family opens the sampler's connection, so its backend can be found and plans are cached.
        var warm = await inspector.SampleCheapAsync(ct);
        var heavy = await inspector.SampleHeavyAsync(ct);
        var backend = await BackendPidAsync(endpoint, ct);
        CheapSample? previous = warm;
        var cheapCost = await MeasureAsync(cycles, backend, async () =>
        {
            var sample = await inspector.SampleCheapAsync(ct);
            _ = PerfReadings.Of(sample, null, null, null, labels, previous);
            previous = sample;
        });
        var baseline = new StatementBaseline();
        IReadOnlyDictionary<long, StatementTrack> tracks = new Dictionary<long, StatementTrack>();
        var heavyCost = await MeasureAsync(heavyCycles, backend, async () =>
        {
            heavy = await inspector.SampleHeavyAsync(ct);
            tracks = baseline.Next(tracks, heavy.Statements);
            _ = PerfReadings.Of(previous!, heavy, tracks, null, labels, previous);
        });
        return new SamplingResult(scale, tables, heavy.Statements.Count, cheapCost, heavyCost);
    }

    /// <summary>A real primary with pgbench's tables, <paramref name="tables"/> more, and a workload in pg_stat_statements.</summary>
    internal static async Task<ControlPlane.Postgres.Fleet.ReplicaEndpoint> PrepareAsync(BenchWorkspace workspace, int scale, int tables, TextWriter log, CancellationToken ct)
    {
        var primary = await BenchPrimary.CreateAsync(workspace, scale, log, ct);
        var endpoint = primary.Driver.Endpoint;
        await PerfInspector.EnsureStatementsExtensionAsync(endpoint, ct);
        await log.WriteLineAsync($"creating {tables} extra tables and a workload for pg_stat_statements");
        if (tables > 0)
            await primary.ExecuteAsync($"""
                DO $$ BEGIN FOR i IN 1..{tables} LOOP
                  EXECUTE format('CREATE TABLE bench_t%s (id int PRIMARY KEY, v int, note text)', i);
                  EXECUTE format('CREATE INDEX ON bench_t%s (v)', i);
                  EXECUTE format('INSERT INTO bench_t%s SELECT g, g %% 97, md5(g::text) FROM generate_series(1, 500) g', i);
                END LOOP; END $$;
                ANALYZE;
                """, ct);
        for (var i = 1; i <= Math.Min(tables, 100); i++)
            await primary.ExecuteAsync($"SELECT count(*) FROM bench_t{i} WHERE v = {i % 97}; UPDATE bench_t{i} SET v = v WHERE id = {i}", ct);
        await primary.ExecuteAsync("SELECT abalance FROM pgbench_accounts WHERE aid = 1", ct);
        return endpoint;
    }

    private static async Task<FamilyCost> MeasureAsync(int cycles, int backend, Func<Task> cycle)
    {
        var wall = new long[cycles];
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var clientBefore = process.TotalProcessorTime;
        var serverBefore = BackendCpuTicks(backend);
        for (var i = 0; i < cycles; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await cycle();
            wall[i] = Stopwatch.GetTimestamp() - start;
        }
        process.Refresh();
        var client = (process.TotalProcessorTime - clientBefore).TotalMilliseconds / cycles;
        var server = (BackendCpuTicks(backend) - serverBefore) * MsPerClockTick / cycles;
        return new FamilyCost(LatencySummary.FromTicks(wall), Math.Round(server, 2), Math.Round(client, 2));
    }

    private static async Task<int> BackendPidAsync(ControlPlane.Postgres.Fleet.ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await BenchWorkspace.OpenAsync(endpoint, ct);
        await using var cmd = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY backend_start LIMIT 1", connection)
        {
            Parameters = { new() { Value = PerfInspector.ApplicationName } },
        };
        return (int)(await cmd.ExecuteScalarAsync(ct) ?? throw new InvalidOperationException("the sampler's backend is not in pg_stat_activity"));
    }

    /// <summary>utime + stime of a process from /proc/PID/stat (fields 14 and 15, after the parenthesised name).</summary>
    private static long BackendCpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
