using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

/// <summary>
/// A primary with a <c>replicator</c> role, a repository whose <c>wal/</c> is fed by pg_receivewal (running for
/// the fixture's lifetime, started before any backup so the archive covers every backup), a table the tests
/// write marks into (one test name each), and one lz4 base backup taken at start. Removed at the end.
/// </summary>
public sealed class BackupFixture : IAsyncLifetime
{
    public const string Tier = "backup";

    private Process? _receiver;

    public string Root { get; } = Directory.CreateTempSubdirectory("cp-backup-").FullName;
    public LocalInstanceDriver Primary { get; private set; } = null!;
    public TierRepository Repository => new(Path.Combine(Root, "repo"), "local", Tier);
    public string SuperuserPasswordFile => Path.Combine(Root, "secrets", "backup.superuser");
    public string ReplicatorPasswordFile => Path.Combine(Root, "secrets", "backup.replicator");
    public ReplicationSource Source => new(Primary.Endpoint, ReplicatorPasswordFile);
    public BaseBackupResult Backup { get; private set; } = null!;
    public IReadOnlyList<BackupProgress> BackupProgress { get; private set; } = [];

    public async Task InitializeAsync()
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(Root, "secrets"));
            Directory.CreateDirectory(Repository.Root);
            await SecretFile.EnsureAsync(SuperuserPasswordFile, CancellationToken.None);
            await SecretFile.EnsureAsync(ReplicatorPasswordFile, CancellationToken.None);
            Primary = new LocalInstanceDriver(
                new LocalInstanceOptions(Tier, "bk-1", Path.Combine(Root, "bk-1", "data"), FreePort.Pick(), SuperuserPasswordFile, ReplicatorPasswordFile),
                NullLogger.Instance);
            await Primary.InitPrimaryAsync(CancellationToken.None);
            await ExecAsync("CREATE TABLE marks (test text NOT NULL, step int NOT NULL)");
            await StartWalReceiverAsync();
            var progress = new Collect<BackupProgress>();
            Backup = await new BaseBackupRunner(NullLogger.Instance).TakeAsync(
                new BaseBackupRequest("first", Source, Repository), progress, CancellationToken.None);
            BackupProgress = progress.Items;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_receiver is not null)
        {
            try { _receiver.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            await _receiver.WaitForExitAsync();
            _receiver.Dispose();
        }
        if (Primary is not null)
        {
            try { await Primary.StopAsync(StopMode.Immediate, CancellationToken.None); }
            catch (Exception e) when (e is ProcessFailedException or TimeoutException) { }
        }
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>Writes one mark in its own transaction and returns the WAL position after its commit.</summary>
    public async Task<ulong> MarkAsync(string test, int step)
    {
        await using var c = await OpenAsync(Primary.Endpoint);
        await using (var insert = new NpgsqlCommand("INSERT INTO marks VALUES ($1, $2)", c) { Parameters = { new() { Value = test }, new() { Value = step } } })
        {
            await insert.ExecuteNonQueryAsync();
        }
        return await CurrentLsnAsync(c);
    }

    /// <summary>The steps of <paramref name="test"/> found on <paramref name="endpoint"/>, in order.</summary>
    public static async Task<IReadOnlyList<int>> StepsAsync(ReplicaEndpoint endpoint, string test)
    {
        await using var c = await OpenAsync(endpoint);
        await using var cmd = new NpgsqlCommand("SELECT step FROM marks WHERE test = $1 ORDER BY step", c) { Parameters = { new() { Value = test } } };
        await using var reader = await cmd.ExecuteReaderAsync();
        var steps = new List<int>();
        while (await reader.ReadAsync()) steps.Add(reader.GetInt32(0));
        return steps;
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var c = await OpenAsync(Primary.Endpoint);
        await using var cmd = new NpgsqlCommand(sql, c);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task ExecAsync(string sql)
    {
        await using var c = await OpenAsync(Primary.Endpoint);
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Waits until pg_receivewal reports WAL up to <paramref name="lsn"/> flushed into the repository.</summary>
    public Task WaitArchivedAsync(ulong lsn) =>
        Poll.UntilAsync(ArchivedLsnAsync, flushed => flushed >= lsn, $"pg_receivewal to flush {new Lsn(lsn)}");

    public async Task<ulong> CurrentLsnAsync()
    {
        await using var c = await OpenAsync(Primary.Endpoint);
        return await CurrentLsnAsync(c);
    }

    /// <summary>A restore request for the fixture's backup into a new directory of <paramref name="name"/>.</summary>
    public RestoreRequest RestoreRequest(string name, RecoveryTarget target, string? backupDirectory = null) =>
        new(backupDirectory ?? Backup.Directory, Repository.WalDirectory, Path.Combine(Root, "restores", name, "data"), FreePort.Pick(), Primary.Endpoint, target);

    private async Task StartWalReceiverAsync()
    {
        await RepositoryDirectories.EnsureAsync(Repository, NullLogger.Instance, CancellationToken.None);
        var passFile = Path.Combine(Root, "receivewal.pgpass");
        var conninfo = await ReplicatorConninfoAsync(passFile);
        await OsUser.EnsureAncestorsTraversableAsync(passFile, NullLogger.Instance, CancellationToken.None);
        _receiver = StartAsPostgres("pg_receivewal", ["-D", Repository.WalDirectory, "--synchronous", "-w", "-d", conninfo]);
        await Poll.UntilAsync(ArchivedLsnAsync, flushed => flushed > 0, "pg_receivewal to stream");
    }

    /// <summary>Writes a replicator password file at <paramref name="passFile"/> (postgres's, 0600) and returns a conninfo to the primary using it.</summary>
    public async Task<string> ReplicatorConninfoAsync(string passFile)
    {
        await SecretFile.WriteForPostgresAsync(passFile, SecretFile.PgPassLine(InstanceConfig.ReplicationUser, SecretFile.Read(ReplicatorPasswordFile)), CancellationToken.None);
        return string.Join(' ', InstanceConfig.Pair("host", "127.0.0.1"), InstanceConfig.Pair("port", Primary.Port.ToString(CultureInfo.InvariantCulture)),
            InstanceConfig.Pair("user", InstanceConfig.ReplicationUser), InstanceConfig.Pair("passfile", passFile));
    }

    /// <summary>Starts a PostgreSQL client tool in the background, as the postgres user when root, its output drained and ignored.</summary>
    public static Process StartAsPostgres(string tool, IReadOnlyList<string> args)
    {
        var path = PgBinaries.Shared.Tool(tool);
        var psi = new ProcessStartInfo { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = "/" };
        psi.FileName = OsUser.IsRoot ? OsUser.RunuserPath : path;
        foreach (var a in (OsUser.IsRoot ? ["-u", OsUser.PostgresUser, "--", path] : Array.Empty<string>()).Concat(args)) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private async Task<ulong> ArchivedLsnAsync()
    {
        if (_receiver is { HasExited: true }) throw new InvalidOperationException($"pg_receivewal exited with {_receiver.ExitCode}.");
        var flushed = await ScalarAsync<object>("SELECT flush_lsn::text FROM pg_stat_replication WHERE application_name = 'pg_receivewal'");
        return flushed is string s ? Lsn.Parse(s).Value : 0;
    }

    private static async Task<ulong> CurrentLsnAsync(NpgsqlConnection c)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", c);
        return Lsn.Parse((string)(await cmd.ExecuteScalarAsync())!).Value;
    }

    private static async Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint) =>
        await AdminSql.OpenAsync(endpoint, CancellationToken.None);
}

/// <summary>Collects reports synchronously (Progress&lt;T&gt; posts them later, on the thread pool).</summary>
public sealed class Collect<T> : IProgress<T>
{
    private readonly ConcurrentQueue<T> _items = new();

    public IReadOnlyList<T> Items => [.. _items];

    public void Report(T value) => _items.Enqueue(value);
}

[CollectionDefinition(Name)]
public sealed class BackupCollection : ICollectionFixture<BackupFixture>
{
    public const string Name = "Backups";
}
