using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

[Collection(BackupCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class BaseBackupRunnerTests(BackupFixture fixture)
{
    private readonly BaseBackupRunner _runner = new(NullLogger.Instance);

    [Fact]
    public void A_backup_with_lz4_stores_the_manifest_and_archives_and_reports_its_wal_range()
    {
        var backup = fixture.Backup;
        Assert.Equal(fixture.Repository.BackupDirectory("first"), backup.Directory);
        Assert.Equal(["backup_manifest", "base.tar.lz4", "pg_wal.tar.lz4"], Directory.GetFiles(backup.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(1, backup.Timeline);
        Assert.InRange(backup.StopLsn, backup.StartLsn, ulong.MaxValue);
        Assert.True(backup.StartLsn > 0);
        Assert.Equal(Directory.GetFiles(backup.Directory).Sum(f => new FileInfo(f).Length), backup.Bytes);
        Assert.Equal("lz4", backup.Compression);
        Assert.Empty(Directory.GetDirectories(fixture.Repository.BaseDirectory, "*.partial"));
    }

    [Fact]
    public void A_backup_reports_its_progress_in_bytes_and_ends_done()
    {
        var copying = fixture.BackupProgress.Where(p => p.Phase == "copying").ToList();
        Assert.NotEmpty(copying);
        Assert.All(copying, p => Assert.True(p.TotalBytes > 0));
        Assert.Equal(new BackupProgress("done", fixture.Backup.Bytes, fixture.Backup.Bytes), fixture.BackupProgress[^1]);
    }

    [Fact]
    public async Task A_backup_into_a_repository_that_does_not_exist_fails_naming_it()
    {
        var missing = new TierRepository(Path.Combine(fixture.Root, "no-such-mount"), "local", BackupFixture.Tier);

        var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            _runner.TakeAsync(new BaseBackupRequest("nowhere", fixture.Source, missing), null, CancellationToken.None));

        Assert.Contains(missing.Root, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backup_from_an_unreachable_source_fails_with_pg_basebackup_s_words_and_leaves_nothing()
    {
        var nobody = fixture.Source with { Endpoint = fixture.Primary.Endpoint with { Port = FreePort.Pick() } };

        var e = await Assert.ThrowsAsync<ProcessFailedException>(() =>
            _runner.TakeAsync(new BaseBackupRequest("unreachable", nobody, fixture.Repository), null, CancellationToken.None));

        Assert.Contains("connection", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(fixture.Repository.BackupDirectory("unreachable")));
        Assert.False(Directory.Exists(fixture.Repository.BackupDirectory("unreachable") + BaseBackupRunner.PartialSuffix));
    }

    [Fact]
    public async Task A_backup_without_pg_basebackup_installed_fails_naming_the_tool_and_leaves_nothing()
    {
        var runner = new BaseBackupRunner(NullLogger.Instance, new PgBinaries(Path.Combine(fixture.Root, "no-bin")));

        var e = await Assert.ThrowsAsync<FileNotFoundException>(() =>
            runner.TakeAsync(new BaseBackupRequest("no-tool", fixture.Source, fixture.Repository), null, CancellationToken.None));

        Assert.Contains("pg_basebackup", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(fixture.Repository.BackupDirectory("no-tool") + BaseBackupRunner.PartialSuffix));
    }

    [Fact]
    public async Task A_backup_with_the_id_of_an_existing_one_is_refused()
    {
        var e = await Assert.ThrowsAsync<IOException>(() =>
            _runner.TakeAsync(new BaseBackupRequest("first", fixture.Source, fixture.Repository), null, CancellationToken.None));

        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_backup_removes_its_directory()
    {
        var copy = fixture.Repository.BackupDirectory("copy-to-delete");
        await ProcessRunner.RunCheckedAsync(new ProcessSpec("cp", ["-a", fixture.Backup.Directory, copy]), CancellationToken.None);

        await BaseBackupRunner.DeleteAsync(copy, NullLogger.Instance, CancellationToken.None);

        Assert.False(Directory.Exists(copy));
        Assert.False(Directory.Exists(copy + BaseBackupRunner.PartialSuffix));
    }

    [Fact]
    public async Task Clean_up_kills_an_orphaned_backup_and_removes_its_partial_directory()
    {
        var partial = fixture.Repository.BackupDirectory("orphan") + BaseBackupRunner.PartialSuffix;
        using var orphan = await StartThrottledBackupAsync(partial);
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(Directory.Exists(Path.Combine(partial, BaseBackupRunner.WorkDirectoryName))), d => d, "the orphan to start writing");
            Assert.True(OrphanedBackup.IsBackupInto(orphan.Id, partial));

            var cleaned = await BaseBackupRunner.CleanUpInterruptedAsync(fixture.Repository, NullLogger.Instance, CancellationToken.None);

            Assert.Equal(1, cleaned);
            Assert.False(Directory.Exists(partial));
            Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.DoesNotContain(Process.GetProcessesByName("pg_basebackup"), p => CommandLine(p.Id).Contains(partial, StringComparison.Ordinal));
        }
        finally
        {
            if (!orphan.HasExited) orphan.Kill(entireProcessTree: true);
        }
    }

    /// <summary>A pg_basebackup at 32 kB/s into <paramref name="partial"/>, started and pid-filed the way the runner does it, then left alone.</summary>
    private async Task<Process> StartThrottledBackupAsync(string partial)
    {
        Directory.CreateDirectory(partial);
        await OsUser.GiveToPostgresAsync(partial, recursive: false, CancellationToken.None);
        var conninfo = await fixture.ReplicatorConninfoAsync(Path.Combine(partial, "replicator.pgpass"));
        var process = BackupFixture.StartAsPostgres("pg_basebackup",
            ["-d", conninfo, "-D", Path.Combine(partial, BaseBackupRunner.WorkDirectoryName), "-Ft", "-X", "stream", "--max-rate=32k", "-P", "-w"]);
        await File.WriteAllTextAsync(Path.Combine(partial, BaseBackupRunner.PidFileName), process.Id.ToString(CultureInfo.InvariantCulture) + "\n");
        return process;
    }

    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Replace('\0', ' '); }
        catch (IOException) { return ""; }
    }
}
