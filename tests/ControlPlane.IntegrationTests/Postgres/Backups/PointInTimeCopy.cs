using System.Globalization;
using ControlPlane.IntegrationTests.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

/// <summary>
/// A test-only point-in-time restore of the fixture's primary, the smallest that proves a capture exact: a plain
/// base backup taken first, the primary's pg_wal copied into an archive afterwards (a slot keeps it from being
/// recycled in between), and recovery of the backup to a named restore point. The real restore runner lives
/// elsewhere; this one is only as strong as these tests need.
/// </summary>
internal sealed class PointInTimeCopy : IAsyncDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly DrillPrimaryFixture _fixture;
    private readonly string _directory;
    private readonly string _slot = $"pitr_{Guid.NewGuid():N}"[..20];
    private LocalInstanceDriver? _restored;

    private PointInTimeCopy(DrillPrimaryFixture fixture, string directory) => (_fixture, _directory) = (fixture, directory);

    private string DataDirectory => Path.Combine(_directory, "data");
    private string Archive => Path.Combine(_directory, "archive");

    /// <summary>Reserves WAL from now on and takes a plain base backup of the primary.</summary>
    public static async Task<PointInTimeCopy> BaseBackupAsync(DrillPrimaryFixture fixture)
    {
        var copy = new PointInTimeCopy(fixture, Path.Combine(fixture.Root, $"pitr-{Guid.NewGuid():N}"));
        Directory.CreateDirectory(copy.Archive);
        await OsUser.GiveToPostgresAsync(copy._directory, recursive: true, None);
        var primary = fixture.Primary.Endpoint;
        await Sql.ScalarAsync(primary, $"SELECT pg_create_physical_replication_slot('{copy._slot}', true)");
        var passFile = Path.Combine(copy._directory, "replication.pgpass");
        await SecretFile.WriteForPostgresAsync(passFile,
            SecretFile.PgPassLine(InstanceConfig.ReplicationUser, SecretFile.Read(fixture.ReplicatorPasswordFile)), None);
        await ProcessRunner.RunCheckedAsync(new ProcessSpec(PgBinaries.Shared.Tool("pg_basebackup"),
            ["-h", primary.Host, "-p", primary.Port.ToString(CultureInfo.InvariantCulture), "-U", InstanceConfig.ReplicationUser,
             "-D", copy.DataDirectory, "-Fp", "-X", "stream", "-c", "fast", "-w"])
        {
            AsPostgres = true,
            Timeout = TimeSpan.FromMinutes(3),
            Environment = new Dictionary<string, string> { ["PGPASSFILE"] = passFile },
        }, None);
        return copy;
    }

    /// <summary>Completes the current WAL segment on the primary and copies every segment into the archive.</summary>
    public async Task ArchiveWalAsync()
    {
        await Sql.ScalarAsync(_fixture.Primary.Endpoint, "SELECT pg_switch_wal()");
        foreach (var segment in Directory.GetFiles(Path.Combine(_fixture.Primary.DataDirectory, "pg_wal")))
        {
            File.Copy(segment, Path.Combine(Archive, Path.GetFileName(segment)));
        }
        await OsUser.GiveToPostgresAsync(Archive, recursive: true, None);
    }

    /// <summary>Recovers the base backup to <paramref name="restorePoint"/>, promotes it and returns it running.</summary>
    public async Task<LocalInstanceDriver> RecoverToAsync(string restorePoint)
    {
        // postgresql.auto.conf is read after controlplane.conf, which the driver rewrites at every start.
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.auto.conf"),
            $"restore_command = {InstanceConfig.Quote($"cp {Archive}/%f %p")}\n"
            + $"recovery_target_name = {InstanceConfig.Quote(restorePoint)}\n"
            + "recovery_target_action = 'promote'\n");
        await OsUser.WriteFileAsync(Path.Combine(DataDirectory, "recovery.signal"), "", UnixFileMode.UserRead | UnixFileMode.UserWrite, forPostgres: true, None);
        _restored = _fixture.Driver("drill-restored", DataDirectory);
        await _restored.StartAsync(None);
        await Poll.UntilAsync(InRecoveryAsync, inRecovery => !inRecovery, $"the copy recovered to '{restorePoint}' to be promoted");
        return _restored;
    }

    public async ValueTask DisposeAsync()
    {
        if (_restored is not null) await _restored.StopAsync(StopMode.Immediate, None);
        await Sql.ScalarAsync(_fixture.Primary.Endpoint, $"SELECT pg_drop_replication_slot('{_slot}')");
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<bool> InRecoveryAsync()
    {
        try
        {
            return (bool)(await Sql.ScalarAsync(_restored!.Endpoint, "SELECT pg_is_in_recovery()"))!;
        }
        catch (NpgsqlException)
        {
            return true;
        }
    }
}
