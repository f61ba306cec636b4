using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Backups;

/// <summary>
/// Backups proven on the real fleet through the gateway: scheduled and verified base backups in both repositories,
/// point-in-time restores, drills, retention, tenant exports. Each test takes the backups it needs.
/// </summary>
[Collection(BackupCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class BackupLifecycleTests(BackupSiloFixture fixture, ITestOutputHelper output)
{
    private BackupControl Backups => fixture.Backups;

    private async Task<ChaosInstance> PrimaryAsync()
    {
        var tier = await fixture.Tier.GetAsync();
        return await fixture.Tier.InstanceAsync(tier.Primary);
    }

    private static async Task ExecuteAsync(ChaosInstance instance, string sql, params object[] args)
    {
        await using var connection = await instance.OpenAsync(10, 60, CancellationToken.None);
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var a in args) command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = a });
        await command.ExecuteNonQueryAsync();
    }

    private string BackupDirectory(string root, string id) => Path.Combine(root, "local", BackupSiloFixture.TierName, "base", id);

    [Fact]
    public async Task A_scheduled_backup_runs_on_its_own_is_verified_and_lands_in_both_repositories()
    {
        var before = (await Backups.ListAsync()).Select(b => b.Id).ToHashSet();
        await Backups.SetPolicyAsync(new BackupPolicy { Schedule = "* * * * *" });
        try
        {
            Backup? scheduled = null;
            var deadline = DateTime.UtcNow.AddSeconds(150);
            while (scheduled is not { State: BackupState.Succeeded or BackupState.Failed } && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
                scheduled = (await Backups.ListAsync()).FirstOrDefault(b => !before.Contains(b.Id) && b.Principal == "controlplane");
            }
            Assert.NotNull(scheduled);
            output.WriteLine($"scheduled backup {scheduled.Id}: {scheduled.State}, {scheduled.Bytes} bytes in {scheduled.Duration}, {scheduled.VerifyDetail} {scheduled.Error}");
            Assert.Equal(BackupState.Succeeded, scheduled.State);
            Assert.True(scheduled.Verified);
            Assert.True(scheduled.Bytes > 0);
            Assert.True(scheduled.Timeline >= 1);
            Assert.True(ControlPlane.Postgres.Health.Lsn.Parse(scheduled.StopLsn) > ControlPlane.Postgres.Health.Lsn.Parse(scheduled.StartLsn));
            Assert.Equal([fixture.Repository, fixture.SecondRepository], scheduled.Repositories);
            Assert.True(File.Exists(Path.Combine(BackupDirectory(fixture.Repository, scheduled.Id), "backup_manifest")));
            Assert.True(File.Exists(Path.Combine(BackupDirectory(fixture.SecondRepository, scheduled.Id), "backup_manifest")));
        }
        finally
        {
            await Backups.SetPolicyAsync(new BackupPolicy { Schedule = "" });
        }
    }

    [Fact]
    public async Task Point_in_time_restore_to_a_time_between_two_writes_brings_back_exactly_the_first()
    {
        await Backups.TakeAsync();
        var primary = await PrimaryAsync();
        var run = "pitr-" + Guid.NewGuid().ToString("N")[..6];
        await ExecuteAsync(primary, "INSERT INTO chaos_writes (run, id) VALUES ($1, 1)", run);
        await Task.Delay(300);
        var between = await BackupControl.ScalarAsync<DateTime>(primary, "SELECT clock_timestamp()");
        await Task.Delay(300);
        await ExecuteAsync(primary, "INSERT INTO chaos_writes (run, id) VALUES ($1, 2)", run);
        await Backups.WaitForArchiveAsync(TimeSpan.FromSeconds(30));

        var restored = await Backups.RestoreAsync(new RestoreTarget { Time = Timestamp.FromDateTime(DateTime.SpecifyKind(between, DateTimeKind.Utc)) });
        try
        {
            var ids = await BackupControl.ScalarAsync<long[]>(Backups.Instance(restored), "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM chaos_writes WHERE run = $1", run);
            Assert.Equal([1L], ids);
            Assert.False(await BackupControl.ScalarAsync<bool>(Backups.Instance(restored), "SELECT pg_is_in_recovery()"));
        }
        finally
        {
            await Backups.DropAsync(restored);
        }
    }

    [Fact]
    public async Task A_restore_to_a_named_restore_point_stops_exactly_there()
    {
        await Backups.TakeAsync();
        var primary = await PrimaryAsync();
        var run = "point-" + Guid.NewGuid().ToString("N")[..6];
        await ExecuteAsync(primary, "INSERT INTO chaos_writes (run, id) VALUES ($1, 1)", run);
        var point = await Backups.Client.CreateRestorePointAsync(new CreateRestorePointRequest { Tier = BackupSiloFixture.TierName, Name = run });
        await ExecuteAsync(primary, "INSERT INTO chaos_writes (run, id) VALUES ($1, 2)", run);
        await Backups.WaitForArchiveAsync(TimeSpan.FromSeconds(30));

        var restored = await Backups.RestoreAsync(new RestoreTarget { RestorePoint = point.Name });
        try
        {
            var ids = await BackupControl.ScalarAsync<long[]>(Backups.Instance(restored), "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM chaos_writes WHERE run = $1", run);
            Assert.Equal([1L], ids);
        }
        finally
        {
            await Backups.DropAsync(restored);
        }
    }

    [Fact]
    public async Task A_restore_into_a_standby_follows_the_primary()
    {
        var backup = await Backups.TakeAsync();
        var restored = await Backups.RestoreAsync(new RestoreTarget { Latest = true }, backup.Id, RestoreInto.Standby);
        try
        {
            var instance = Backups.Instance(restored);
            Assert.True(await BackupControl.ScalarAsync<bool>(instance, "SELECT pg_is_in_recovery()"));
            var run = "standby-" + Guid.NewGuid().ToString("N")[..6];
            await ExecuteAsync(await PrimaryAsync(), "INSERT INTO chaos_writes (run, id) VALUES ($1, 7)", run);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            long seen = 0;
            while (seen == 0 && DateTime.UtcNow < deadline)
            {
                seen = await BackupControl.ScalarAsync<long>(instance, "SELECT count(*) FROM chaos_writes WHERE run = $1", run);
                if (seen == 0) await Task.Delay(200);
            }
            Assert.Equal(1, seen);
        }
        finally
        {
            await Backups.DropAsync(restored);
        }
    }

    [Fact]
    public async Task A_restored_standby_registered_as_a_replica_joins_the_tier_on_its_own_slot_and_leaves_it_when_dropped()
    {
        var backup = await Backups.TakeAsync();
        var restored = await Backups.RestoreAsync(new RestoreTarget { Latest = true }, backup.Id, RestoreInto.Standby);
        var name = $"{BackupSiloFixture.TierName}-{restored.Id}";
        try
        {
            var registered = await Backups.Client.RegisterRestoreAsync(new RegisterRestoreRequest { Tier = BackupSiloFixture.TierName, RestoreId = restored.Id });
            Assert.Equal(RestoreStatus.Registered, registered.Status);
            Assert.Equal(name, registered.Replica);

            var joined = await fixture.Tier.WaitAsync(t => TierControl.IsConverged(t) && t.Replicas.Any(r => r.Name == name), TimeSpan.FromSeconds(60));
            Assert.Equal(ReplicaRole.Standby, joined.Replicas.Single(r => r.Name == name).Role);
            var slot = ControlPlane.Postgres.Fleet.LocalFleetOptions.SlotName(name);
            Assert.True(await BackupControl.ScalarAsync<bool>(await PrimaryAsync(), "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot));
        }
        finally
        {
            await Backups.DropAsync(restored);
        }
        var left = await fixture.Tier.WaitAsync(t => TierControl.IsConverged(t) && t.Replicas.All(r => r.Name != name), TimeSpan.FromSeconds(60));
        Assert.DoesNotContain(left.Replicas, r => r.Name == name);
        Assert.Equal(0L, await BackupControl.ScalarAsync<long>(await PrimaryAsync(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1",
            ControlPlane.Postgres.Fleet.LocalFleetOptions.SlotName(name)));
        Assert.Equal(RestoreStatus.Dropped, (await Backups.Client.ListRestoresAsync(new ListRestoresRequest { Tier = BackupSiloFixture.TierName })).Restores.Single(r => r.Id == restored.Id).Status);
    }

    [Fact]
    public async Task A_drill_restores_the_newest_backup_passes_its_checks_and_records_the_rto()
    {
        var primary = await PrimaryAsync();
        await ExecuteAsync(primary, "CREATE TABLE IF NOT EXISTS drill_rows AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g");
        var backup = await Backups.TakeAsync();
        Assert.NotEmpty(backup.RestorePoint);
        Assert.Contains(backup.Counts, c => c.Table.EndsWith("drill_rows", StringComparison.Ordinal) && c.Rows == 5000);

        var op = await Backups.WaitAsync(await Backups.Client.StartDrillAsync(new StartDrillRequest { Tier = BackupSiloFixture.TierName }));
        output.WriteLine(string.Join(Environment.NewLine, op.Steps.Select(s => s.Message)));
        Assert.Equal(BackupOperationState.Succeeded, op.State);
        var drill = (await Backups.Client.ListDrillsAsync(new ListDrillsRequest { Tier = BackupSiloFixture.TierName })).Drills.Single(d => d.Id == op.Subject);
        Assert.Equal(backup.Id, drill.BackupId);
        Assert.True(drill.Passed);
        Assert.True(drill.Rto.ToTimeSpan() > TimeSpan.Zero);
        Assert.Contains(drill.Checks, c => c.Name == "row counts" && c.Passed);
        Assert.All(drill.Checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
        Assert.Contains(drill.Id, (await Backups.Client.GetBackupAsync(new GetBackupRequest { Tier = BackupSiloFixture.TierName, BackupId = backup.Id })).Drills);
        Assert.DoesNotContain("drill-" + drill.Id, Directory.EnumerateDirectories(Path.Combine(fixture.DataDirectory, "restores", "local", BackupSiloFixture.TierName)).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Retention_deletes_exactly_the_expired_backups_and_the_wal_only_they_needed_in_both_repositories()
    {
        await Backups.TakeAsync();
        await Backups.TakeAsync();
        var policy = await Backups.Client.GetBackupPolicyAsync(new GetBackupPolicyRequest { Tier = BackupSiloFixture.TierName });
        try
        {
            await Backups.SetPolicyAsync(new BackupPolicy { KeepLast = 1, RecoveryWindow = new Duration() });
            var listed = await Backups.ListAsync();
            var newest = listed.Where(b => b.State == BackupState.Succeeded).MaxBy(b => b.StartedAt.ToDateTimeOffset())!;
            // Everything else goes: older complete backups, and failed ones (never restorable) whatever their age.
            var expired = listed.Where(b => b.Id != newest.Id && b.State is BackupState.Succeeded or BackupState.Failed).ToList();
            var walDir = Path.Combine(fixture.Repository, "local", BackupSiloFixture.TierName, "wal");
            var segmentsBefore = Segments(walDir);

            var decision = await Backups.Client.ApplyRetentionAsync(new ApplyRetentionRequest { Tier = BackupSiloFixture.TierName });

            Assert.True(decision.CarriedOut, decision.Error);
            Assert.Empty(decision.Error);
            Assert.Equal(expired.Select(b => b.Id).Order(), decision.DeleteBackups.Order());
            Assert.Equal(newest.StartLsn, decision.WalBefore);
            foreach (var root in new[] { fixture.Repository, fixture.SecondRepository })
            {
                Assert.True(Directory.Exists(BackupDirectory(root, newest.Id)), $"{newest.Id} must stay in {root}");
                Assert.All(expired, b => Assert.False(Directory.Exists(BackupDirectory(root, b.Id)), $"{b.Id} must be gone from {root}"));
            }
            var after = (await Backups.ListAsync(includeDeleted: true)).ToDictionary(b => b.Id);
            Assert.Equal(BackupState.Succeeded, after[newest.Id].State);
            Assert.All(expired, b => Assert.Equal(BackupState.Deleted, after[b.Id].State));
            var neededFrom = SegmentOf(ControlPlane.Postgres.Health.Lsn.Parse(newest.StartLsn).Value);
            Assert.All(Segments(walDir), s => Assert.True(SegmentNumber(s) >= neededFrom, $"{s} is older than the segment holding {newest.StartLsn}"));
            Assert.Contains(segmentsBefore, s => SegmentNumber(s) >= neededFrom);
            Assert.Contains(Segments(walDir), s => SegmentNumber(s) == neededFrom);
            Assert.True(decision.WalFilesDeleted > 0 || segmentsBefore.All(s => SegmentNumber(s) >= neededFrom));

            // The second repository holds the same WAL (mirrored every few seconds), retention applied there too.
            var secondWal = Path.Combine(fixture.SecondRepository, "local", BackupSiloFixture.TierName, "wal");
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!Segments(secondWal).Any(s => SegmentNumber(s) == neededFrom) && DateTime.UtcNow < deadline) await Task.Delay(250);
            Assert.Contains(Segments(secondWal), s => SegmentNumber(s) == neededFrom);
            Assert.All(Segments(secondWal), s => Assert.True(SegmentNumber(s) >= neededFrom, $"{s} is older than the segment holding {newest.StartLsn} in the second repository"));
        }
        finally
        {
            await Backups.SetPolicyAsync(new BackupPolicy { KeepLast = policy.KeepLast, RecoveryWindow = policy.RecoveryWindow });
        }
    }

    [Fact]
    public async Task A_tenant_export_brings_the_tenants_rows_back_after_they_were_lost()
    {
        var primary = await PrimaryAsync();
        await ExecuteAsync(primary, "DROP SCHEMA IF EXISTS tenant_acme CASCADE");
        await ExecuteAsync(primary, "CREATE SCHEMA tenant_acme");
        await ExecuteAsync(primary, "CREATE TABLE tenant_acme.messages AS SELECT g AS id, 'hello ' || g AS body FROM generate_series(1, 250) g");

        var export = await Backups.WaitAsync(await Backups.Client.ExportTenantAsync(new ExportTenantRequest { Tier = BackupSiloFixture.TierName, Tenant = "acme" }));
        Assert.Equal(BackupOperationState.Succeeded, export.State);
        var listed = (await Backups.Client.ListTenantExportsAsync(new ListTenantExportsRequest { Tier = BackupSiloFixture.TierName, Tenant = "acme" })).Exports.Single(e => e.Id == export.Subject);
        Assert.Contains(listed.Counts, c => c.Table.EndsWith("messages", StringComparison.Ordinal) && c.Rows == 250);

        await ExecuteAsync(primary, "DELETE FROM tenant_acme.messages WHERE id > 10");
        var refused = await Backups.WaitAsync(await Backups.Client.ImportTenantAsync(new ImportTenantRequest { Tier = BackupSiloFixture.TierName, Tenant = "acme", ExportId = export.Subject }));
        Assert.Equal(BackupOperationState.Failed, refused.State);
        Assert.Equal(10L, await BackupControl.ScalarAsync<long>(primary, "SELECT count(*) FROM tenant_acme.messages"));

        var import = await Backups.WaitAsync(await Backups.Client.ImportTenantAsync(new ImportTenantRequest { Tier = BackupSiloFixture.TierName, Tenant = "acme", ExportId = export.Subject, Replace = true }));
        Assert.Equal(BackupOperationState.Succeeded, import.State);
        Assert.Equal(250L, await BackupControl.ScalarAsync<long>(primary, "SELECT count(*) FROM tenant_acme.messages"));
    }

    [Fact]
    public async Task Bad_backup_requests_are_refused_precisely_and_change_nothing()
    {
        var tier = BackupSiloFixture.TierName;
        var policy = await Backups.Client.GetBackupPolicyAsync(new GetBackupPolicyRequest { Tier = tier });

        var cron = await Assert.ThrowsAsync<RpcException>(async () => await Backups.SetPolicyAsync(new BackupPolicy { Schedule = "at noon" }));
        Assert.Equal(StatusCode.InvalidArgument, cron.StatusCode);
        Assert.Contains("schedule 'at noon'", cron.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(policy, await Backups.Client.GetBackupPolicyAsync(new GetBackupPolicyRequest { Tier = tier }));

        var future = await Assert.ThrowsAsync<RpcException>(async () => await Backups.Client.RestoreAsync(new RestoreRequest
        {
            Tier = tier,
            Target = new RestoreTarget { Time = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)) },
        }));
        Assert.Equal(StatusCode.InvalidArgument, future.StatusCode);

        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await Backups.Client.RestoreAsync(new RestoreRequest { Tier = tier, BackupId = "20000101T000000Z-1" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        var badId = await Assert.ThrowsAsync<RpcException>(async () => await Backups.Client.DropRestoreAsync(new DropRestoreRequest { Tier = tier, RestoreId = "../x" }));
        Assert.Equal(StatusCode.InvalidArgument, badId.StatusCode);
        Assert.Contains("restore_id '../x'", badId.Status.Detail, StringComparison.Ordinal);
    }

    private static List<string> Segments(string walDir) =>
        Directory.Exists(walDir)
            ? Directory.EnumerateFiles(walDir).Select(Path.GetFileName).OfType<string>().Where(n => n.Length == 24 && n.All(char.IsAsciiHexDigit)).ToList()
            : [];

    private static ulong SegmentNumber(string name) =>
        (Convert.ToUInt64(name[8..16], 16) << 8) | Convert.ToUInt64(name[16..24], 16);

    private static ulong SegmentOf(ulong lsn) => lsn / (16UL * 1024 * 1024);
}
