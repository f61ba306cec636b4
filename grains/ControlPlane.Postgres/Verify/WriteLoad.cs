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

/// <summary>Which program drives the write load: pgbench when it is installed (auto), or one of the two by name.</summary>
public enum WriteLoadDriver { Auto = 0, Pgbench = 1, BuiltIn = 2 }

/// <summary>
/// The write load of <c>cpctl verify</c>: <c>clients</c> sessions each committing one-row INSERTs into the load's own
/// table (<c>controlplane_verify.write_load</c>, created for the run and dropped after it) for the given time, each
/// commit timed — by pgbench (<see cref="PgbenchLoad"/>) when it is beside the server binaries, else by the built-in
/// driver here. The rows are real WAL the standbys replay, so a release sees its commit latency under synchronous
/// replication settings as they are.
/// </summary>
public static class WriteLoad
{
    /// <summary>pgbench beside the PostgreSQL binaries this process uses, or null when it is not installed.</summary>
    public static string? PgbenchPath(PgBinaries? binaries = null)
    {
        try
        {
            var path = Path.Combine((binaries ?? PgBinaries.Shared).BinDirectory, "pgbench");
            return File.Exists(path) ? path : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private const string Create = "CREATE SCHEMA IF NOT EXISTS controlplane_verify; CREATE TABLE IF NOT EXISTS controlplane_verify.write_load (id bigserial PRIMARY KEY, client int NOT NULL, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)";
    private const string Insert = "INSERT INTO controlplane_verify.write_load (client, payload) VALUES ($1, $2)";
    private const string Drop = "DROP TABLE IF EXISTS controlplane_verify.write_load";

    /// <exception cref="InvalidOperationException">pgbench was asked for by name and is not installed.</exception>
    public static async Task<WriteLoadResult> RunAsync(ReplicaEndpoint primary, TimeSpan duration, int clients, WriteLoadDriver driver, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        var pgbench = driver == WriteLoadDriver.BuiltIn ? null : PgbenchPath();
        if (driver == WriteLoadDriver.Pgbench && pgbench is null)
            throw new InvalidOperationException("pgbench is not installed beside the PostgreSQL binaries; ask for the built-in driver or install the PostgreSQL client tools.");
        var connectionString = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(primary)) { ApplicationName = "controlplane-verify" }.ConnectionString;
        await using (var admin = await AdminSql.OpenAsync(connectionString, ct).ConfigureAwait(false))
        await using (var cmd = new NpgsqlCommand(Create, admin)) await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        try
        {
            if (pgbench is not null) return await PgbenchLoad.RunAsync(pgbench, primary, duration, clients, ct).ConfigureAwait(false);
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
