using System.Diagnostics;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Verify;

/// <summary>What a write load measured: committed transactions, failures and the commit latencies.</summary>
public sealed record WriteLoadResult(string Driver, long Transactions, long Errors, TimeSpan Elapsed, LatencySummary Latency, string FirstError)
{
    public double TransactionsPerSecond => Elapsed > TimeSpan.Zero ? Transactions / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// The built-in write load of <c>cpctl verify</c>: <c>clients</c> sessions each committing one-row INSERTs into the
/// load's own table (<c>controlplane_verify.write_load</c>, created for the run and dropped after it) for the given
/// time, each commit timed. The rows are real WAL the standbys replay, so a release sees its commit latency under
/// synchronous replication settings as they are.
/// </summary>
public static class WriteLoad
{
    private const string Create = "CREATE SCHEMA IF NOT EXISTS controlplane_verify; CREATE TABLE IF NOT EXISTS controlplane_verify.write_load (id bigserial PRIMARY KEY, client int NOT NULL, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)";
    private const string Insert = "INSERT INTO controlplane_verify.write_load (client, payload) VALUES ($1, $2)";
    private const string Drop = "DROP TABLE IF EXISTS controlplane_verify.write_load";

    public static async Task<WriteLoadResult> RunAsync(ReplicaEndpoint primary, TimeSpan duration, int clients, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        var connectionString = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(primary)) { ApplicationName = "controlplane-verify" }.ConnectionString;
        await using (var admin = await AdminSql.OpenAsync(connectionString, ct).ConfigureAwait(false))
        await using (var cmd = new NpgsqlCommand(Create, admin)) await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        try
        {
            var clock = Stopwatch.StartNew();
            var until = clock.Elapsed + duration;
            var workers = Enumerable.Range(1, clients).Select(c => ClientAsync(connectionString, c, clock, until, ct)).ToList();
            var results = await Task.WhenAll(workers).ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            var latencies = results.SelectMany(r => r.Latencies).ToList();
            return new WriteLoadResult("built-in", latencies.Count, results.Sum(r => r.Errors), elapsed, LatencySummary.Of(latencies),
                results.Select(r => r.FirstError).FirstOrDefault(e => e.Length > 0) ?? "");
        }
        finally
        {
            await using var admin = await AdminSql.OpenAsync(connectionString, CancellationToken.None).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(Drop, admin);
            await cmd.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<(List<double> Latencies, long Errors, string FirstError)> ClientAsync(
        string connectionString, int client, Stopwatch clock, TimeSpan until, CancellationToken ct)
    {
        var latencies = new List<double>();
        long errors = 0;
        var firstError = "";
        await using var connection = await AdminSql.OpenAsync(connectionString, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(Insert, connection) { CommandTimeout = 30 };
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = client });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = new string('x', 100) });
        while (clock.Elapsed < until)
        {
            var started = clock.Elapsed;
            try
            {
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                latencies.Add((clock.Elapsed - started).TotalMilliseconds);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                errors++;
                if (firstError.Length == 0) firstError = e.Message;
                if (connection.State != System.Data.ConnectionState.Open) break;
            }
        }
        return (latencies, errors, firstError);
    }
}
