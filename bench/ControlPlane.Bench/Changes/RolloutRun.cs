using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Bench.Backups;
using ControlPlane.Postgres.Changes;
using ControlPlane.Postgres.Fleet;
using Npgsql;

namespace ControlPlane.Bench.Changes;

public sealed record RolloutSide(string What, int Targets, int Concurrency, double Seconds, double MillisecondsPerTarget);

public sealed record RolloutBenchResult(string Machine, int Schemas, IReadOnlyList<RolloutSide> Sides)
{
    public string Render()
    {
        var text = new StringBuilder($"no-op version on {Schemas} schemas of one primary ({Machine})\n");
        text.AppendLine(CultureInfo.InvariantCulture, $"{"side",-44} {"conc",5} {"seconds",9} {"ms/target",10}");
        foreach (var s in Sides) text.AppendLine(CultureInfo.InvariantCulture, $"{s.What,-44} {s.Concurrency,5} {s.Seconds,9:F2} {s.MillisecondsPerTarget,10:F2}");
        return text.ToString();
    }
}

/// <summary>
/// What a target costs the rollout, without the grain and gRPC around it: each side applies one no-op version
/// (<c>SELECT 1</c>) to every schema and records it in that schema's history. The change applier's path is the one a
/// rollout takes per target (connection, history read, advisory-locked transaction with timeouts, history row); the
/// Flyway-style loop is what a per-schema tool does: one schema after another on one session, its history table in
/// the schema, a transaction with the row.
/// </summary>
public static class RolloutRun
{
    private static readonly ScriptRun NoOp = new(1, "V1__noop.sql", "noop", true, ["SELECT 1"]);

    public static async Task<RolloutBenchResult> RunAsync(int schemas, int concurrency, string? workDir, TextWriter log, CancellationToken ct)
    {
        await using var workspace = await BenchWorkspace.CreateAsync(workDir, keep: false, ct);
        var primary = await BenchPrimary.CreateAsync(workspace, 1, log, ct);
        var endpoint = primary.Driver.Endpoint;
        var names = Enumerable.Range(1, schemas).Select(i => $"bench_{i:00000}").ToArray();
        await log.WriteLineAsync($"creating {schemas} schemas (three sets, one per side)");
        await using (var connection = await BenchWorkspace.OpenAsync(endpoint, ct))
        {
            foreach (var prefix in new[] { "p", "s", "f" })
            {
                foreach (var name in names)
                {
                    await using var cmd = new NpgsqlCommand($"CREATE SCHEMA {prefix}{name}", connection);
                    await cmd.ExecuteNonQueryAsync(ct);
                }
            }
        }
        var sides = new List<RolloutSide>
        {
            await TimeAsync("change applier, parallel", names.Select(n => "p" + n).ToArray(), concurrency, s => ApplierAsync(endpoint, s, ct)),
            await TimeAsync("change applier, sequential", names.Select(n => "s" + n).ToArray(), 1, s => ApplierAsync(endpoint, s, ct)),
        };
        await using (var session = await BenchWorkspace.OpenAsync(endpoint, ct))
        {
            sides.Add(await TimeAsync("flyway-style loop (sequential, one session)", names.Select(n => "f" + n).ToArray(), 1, s => FlywayStyleAsync(session, s, 1, "noop", "SELECT 1", ct)));
        }
        return new RolloutBenchResult(Environment.ProcessorCount + " cores", schemas, sides);
    }

    private static async Task<RolloutSide> TimeAsync(string what, string[] targets, int concurrency, Func<string, Task> apply)
    {
        using var gate = new SemaphoreSlim(concurrency);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(targets.Select(async t =>
        {
            await gate.WaitAsync();
            try { await apply(t); }
            finally { gate.Release(); }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        return new RolloutSide(what, targets.Length, concurrency, seconds, seconds * 1000 / targets.Length);
    }

    private static async Task ApplierAsync(ReplicaEndpoint endpoint, string schema, CancellationToken ct)
    {
        await using var applier = await ChangeApplier.OpenAsync(endpoint, schema, ct);
        _ = await applier.HistoryAsync(ct);
        await applier.ApplyAsync(NoOp, "bench", "bench", new ApplyLimits(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1)), ct);
    }

    /// <summary>
    /// What a per-schema migration tool does for one schema: its history table in the schema, the newest version
    /// applied, then one transaction with the migration and its history row.
    /// </summary>
    internal static async Task FlywayStyleAsync(NpgsqlConnection connection, string schema, long version, string checksum, string sql, CancellationToken ct)
    {
        await ExecuteAsync(connection, null, $"CREATE TABLE IF NOT EXISTS {schema}.schema_history (version bigint PRIMARY KEY, checksum text, installed_on timestamptz DEFAULT now())", ct);
        await ExecuteAsync(connection, null, $"SELECT max(version) FROM {schema}.schema_history", ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await ExecuteAsync(connection, tx, $"SET LOCAL search_path = {schema}", ct);
        await ExecuteAsync(connection, tx, sql, ct);
        await ExecuteAsync(connection, tx, $"INSERT INTO {schema}.schema_history (version, checksum) VALUES ({version}, '{checksum}')", ct);
        await tx.CommitAsync(ct);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
