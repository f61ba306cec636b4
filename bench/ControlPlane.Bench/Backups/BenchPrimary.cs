using System.Globalization;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.Bench.Backups;

/// <summary>Size of what the backups copy, measured once after initialisation.</summary>
/// <param name="DatabaseBytes">The pgbench database (<c>postgres</c>): what throughput and compression ratio refer to.</param>
/// <param name="ClusterBytes">Every database of the cluster (templates included): what a physical backup really copies.</param>
public sealed record DatabaseSize(long DatabaseBytes, long ClusterBytes);

/// <summary>
/// The backed-up instance: a standalone primary (with the <c>replicator</c> role) in the benchmark's work directory,
/// filled by <c>pgbench -i</c> and checkpointed, so no backup pays for the initialisation's dirty buffers. It can be
/// restarted with extra settings (WAL archiving for pgBackRest). Also the place a later RPO mode starts from: a
/// write load and a WAL archiver need nothing more than this primary and its password files.
/// </summary>
public sealed class BenchPrimary
{
    public const string Tier = "bench";
    public const string Database = "postgres";
    private readonly BenchWorkspace _workspace;
    private LocalInstanceDriver _driver;

    private BenchPrimary(BenchWorkspace workspace, LocalInstanceDriver driver)
    {
        _workspace = workspace;
        _driver = driver;
    }

    public LocalInstanceDriver Driver => _driver;
    public string DataDirectory => _driver.DataDirectory;
    public int Port => _driver.Port;
    /// <summary>A 0600 libpq password file of the superuser, readable by the user the PostgreSQL tools run as.</summary>
    public string PassFile => Path.Combine(_workspace.Root, "postgres.pgpass");

    /// <summary>initdb, start, replicator role, pg_hba line for local (unix socket) superuser sessions, pgbench -i, CHECKPOINT.</summary>
    public static async Task<BenchPrimary> CreateAsync(BenchWorkspace workspace, int scale, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        var driver = new LocalInstanceDriver(Options(workspace, FreePort.Pick(), []), NullLogger.Instance);
        workspace.Track(driver);
        await log.WriteLineAsync($"initialising a primary in {driver.DataDirectory} on port {driver.Port}");
        await driver.InitPrimaryAsync(ct);
        var primary = new BenchPrimary(workspace, driver);
        // pgBackRest reaches PostgreSQL only through a unix socket; the control plane's own pg_hba has TCP lines only.
        await File.AppendAllTextAsync(Path.Combine(driver.DataDirectory, "pg_hba.conf"), $"local all postgres scram-sha-256\n", ct);
        await SecretFile.WriteForPostgresAsync(primary.PassFile, SecretFile.PgPassLine("postgres", SecretFile.Read(workspace.SuperuserPasswordFile)), ct);

        await log.WriteLineAsync($"pgbench -i -s {scale} (this takes a while: about 15 MB per scale unit)");
        var pgbench = PgBinaries.Shared.Tool("pgbench");
        await ProcessRunner.RunCheckedAsync(new ProcessSpec(pgbench,
            ["-i", "-q", "-s", scale.ToString(CultureInfo.InvariantCulture), "-h", "127.0.0.1", "-p", driver.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", Database])
        {
            AsPostgres = true,
            Environment = new Dictionary<string, string> { ["PGPASSFILE"] = primary.PassFile },
            Timeout = TimeSpan.FromHours(2),
        }, ct);
        await primary.ExecuteAsync("CHECKPOINT", ct);
        return primary;
    }

    /// <summary>Stops the primary (fast) and starts it again with <paramref name="extraSettings"/> appended to its configuration.</summary>
    public async Task RestartWithAsync(IReadOnlyList<string> extraSettings, CancellationToken ct)
    {
        await _driver.StopAsync(StopMode.Fast, ct);
        _driver = new LocalInstanceDriver(Options(_workspace, _driver.Port, extraSettings), NullLogger.Instance);
        _workspace.Track(_driver);
        await _driver.StartAsync(ct);
    }

    public async Task<DatabaseSize> SizeAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT pg_database_size(current_database()), (SELECT sum(pg_database_size(datname))::bigint FROM pg_database)", connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new DatabaseSize(reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<string> ServerVersionAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        return connection.PostgreSqlVersion.ToString();
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private Task<NpgsqlConnection> OpenAsync(CancellationToken ct) => BenchWorkspace.OpenAsync(_driver.Endpoint, ct);

    private static LocalInstanceOptions Options(BenchWorkspace workspace, int port, IReadOnlyList<string> extraSettings) =>
        new(Tier, "primary", Path.Combine(workspace.Root, "primary", "data"), port, workspace.SuperuserPasswordFile, workspace.ReplicatorPasswordFile)
        {
            ExtraSettings = extraSettings,
        };
}
