using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

[Collection(BackupCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class RestoreRunnerTests(BackupFixture fixture)
{
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(1.2);
    private readonly RestoreRunner _runner = new(NullLogger.Instance);

    [Fact]
    public async Task Restore_to_latest_brings_back_every_committed_row()
    {
        await fixture.MarkAsync("latest", 1);
        await fixture.MarkAsync("latest", 2);
        await fixture.WaitArchivedAsync(await fixture.MarkAsync("latest", 3));

        await RestoreAsync("latest", RecoveryTarget.Latest, async r =>
        {
            Assert.Equal([1, 2, 3], await BackupFixture.StepsAsync(r.Endpoint, "latest"));
            Assert.Equal(2, r.Timeline);
        });
    }

    [Fact]
    public async Task Restore_to_a_time_between_two_writes_brings_back_only_the_first()
    {
        await fixture.MarkAsync("time", 1);
        await Task.Delay(Pause);
        var between = new DateTimeOffset(await fixture.ScalarAsync<DateTime>("SELECT clock_timestamp()"), TimeSpan.Zero);
        await Task.Delay(Pause);
        await fixture.WaitArchivedAsync(await fixture.MarkAsync("time", 2));

        await RestoreAsync("time", new RecoveryTarget(RecoveryTargetKind.Time, Time: between), async r =>
            Assert.Equal([1], await BackupFixture.StepsAsync(r.Endpoint, "time")));
    }

    [Fact]
    public async Task Restore_to_a_named_restore_point_stops_there()
    {
        await fixture.MarkAsync("point", 1);
        await fixture.ExecAsync("SELECT pg_create_restore_point('before-point-2')");
        await fixture.WaitArchivedAsync(await fixture.MarkAsync("point", 2));

        await RestoreAsync("point", new RecoveryTarget(RecoveryTargetKind.RestorePoint, Name: "before-point-2"), async r =>
            Assert.Equal([1], await BackupFixture.StepsAsync(r.Endpoint, "point")));
    }

    [Fact]
    public async Task Restore_to_an_lsn_stops_there()
    {
        var afterFirst = await fixture.MarkAsync("lsn", 1);
        await fixture.WaitArchivedAsync(await fixture.MarkAsync("lsn", 2));

        await RestoreAsync("lsn", new RecoveryTarget(RecoveryTargetKind.Lsn, Lsn: afterFirst), async r =>
        {
            Assert.Equal([1], await BackupFixture.StepsAsync(r.Endpoint, "lsn"));
            Assert.True(r.ReachedLsn >= afterFirst);
        });
    }

    [Fact]
    public async Task Restore_as_a_standby_streams_from_the_primary()
    {
        var request = fixture.RestoreRequest("standby", RecoveryTarget.Latest) with { StandbyOf = fixture.Source };
        try
        {
            var restored = await _runner.RestoreAsync(request, null, CancellationToken.None);
            await fixture.MarkAsync("standby", 1);
            await Poll.UntilAsync(() => BackupFixture.StepsAsync(restored.Endpoint, "standby"), s => s.Count == 1, "the streamed row on the restored standby");
            Assert.Equal(1, restored.Timeline);
        }
        finally
        {
            await _runner.DestroyAsync(request.TargetDataDirectory, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Restore_reports_laying_down_recovering_and_promoted()
    {
        var progress = new Collect<BackupProgress>();

        await RestoreAsync("progress", RecoveryTarget.Immediate, _ => Task.CompletedTask, progress);

        var phases = progress.Items.Select(p => p.Phase).Distinct().ToList();
        Assert.Equal("laying down", phases[0]);
        Assert.Equal("promoted", phases[^1]);
    }

    [Fact]
    public async Task A_target_never_reached_fails_with_the_server_log_and_leaves_nothing_running()
    {
        var beyond = await fixture.CurrentLsnAsync() + (1UL << 30);
        var request = fixture.RestoreRequest("unreached", new RecoveryTarget(RecoveryTargetKind.Lsn, Lsn: beyond));
        try
        {
            var e = await Assert.ThrowsAsync<RestoreFailedException>(() => _runner.RestoreAsync(request, null, CancellationToken.None));

            Assert.Contains("recovery ended before configured recovery target was reached", e.Message, StringComparison.Ordinal);
            Assert.Empty(InstanceProcesses.Find(request.TargetDataDirectory, postmasterPid: null));
        }
        finally
        {
            await _runner.DestroyAsync(request.TargetDataDirectory, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Restore_of_a_missing_backup_fails_naming_it_and_creates_nothing()
    {
        var missing = fixture.Repository.BackupDirectory("never-taken");
        var request = fixture.RestoreRequest("missing", RecoveryTarget.Latest, missing);

        var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => _runner.RestoreAsync(request, null, CancellationToken.None));

        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(request.TargetDataDirectory)));
    }

    [Fact]
    public async Task Restore_to_a_time_in_the_future_is_refused()
    {
        var request = fixture.RestoreRequest("future", new RecoveryTarget(RecoveryTargetKind.Time, Time: DateTimeOffset.UtcNow.AddHours(1)));

        var e = await Assert.ThrowsAsync<ArgumentException>(() => _runner.RestoreAsync(request, null, CancellationToken.None));

        Assert.Contains("in the future", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_to_a_time_before_the_backup_is_refused()
    {
        var request = fixture.RestoreRequest("too-early", new RecoveryTarget(RecoveryTargetKind.Time, Time: DateTimeOffset.UtcNow.AddDays(-1)));

        var e = await Assert.ThrowsAsync<ArgumentException>(() => _runner.RestoreAsync(request, null, CancellationToken.None));

        Assert.Contains("before base backup", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Destroy_refuses_a_directory_no_restore_created()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _runner.DestroyAsync(fixture.Primary.DataDirectory, CancellationToken.None));

        Assert.True(await fixture.Primary.IsRunningAsync(CancellationToken.None));
    }

    /// <summary>Restores the fixture's backup, runs <paramref name="check"/> on the running copy, and destroys it whatever happens.</summary>
    private async Task<RestoredInstance> RestoreAsync(string name, RecoveryTarget target, Func<RestoredInstance, Task> check, IProgress<BackupProgress>? progress = null)
    {
        var request = fixture.RestoreRequest(name, target);
        try
        {
            var restored = await _runner.RestoreAsync(request, progress, CancellationToken.None);
            Assert.Equal(request.Port, restored.Endpoint.Port);
            await check(restored);
            await using var c = await AdminSql.OpenAsync(restored.Endpoint, CancellationToken.None);
            await using var inRecovery = new NpgsqlCommand("SELECT pg_is_in_recovery()", c);
            Assert.False((bool)(await inRecovery.ExecuteScalarAsync())!);
            return restored;
        }
        finally
        {
            await _runner.DestroyAsync(request.TargetDataDirectory, CancellationToken.None);
            Assert.False(Directory.Exists(Path.GetDirectoryName(request.TargetDataDirectory)));
        }
    }
}
