using System.Diagnostics;
using System.Globalization;
using ControlPlane.IntegrationTests.Backups;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// WAL lost before it was archived, made for real: the tier's pg_receivewal is frozen (SIGSTOP, its session ended) while the primary, with
/// max_slot_wal_keep_size lowered, switches WAL files and checkpoints until it invalidates the archiver's slot and
/// removes the WAL the archive needed next; thawed, the archiver is told that WAL is gone. The control plane records
/// the gap, raises WalArchiveGap, refuses a point-in-time restore across it, archives again from the oldest WAL the
/// primary kept, and takes a base backup on its own that bridges the gap (the alert resolves).
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class WalArchiveGapChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private const string ArchiveSlot = "controlplane_archive";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task Wal_removed_before_it_was_archived_is_recorded_alerted_refused_for_restore_and_bridged_by_a_new_base_backup()
    {
        await Tier.ResetAsync();
        var backups = new BackupControl(new BackupService.BackupServiceClient(fixture.Invoker), ChaosSiloFixture.TierName, fixture.PasswordFile);
        await backups.WaitForArchiveAsync(TimeSpan.FromMinutes(1));
        var before = await backups.TakeAsync();
        var gapsBefore = (await backups.ArchiveAsync()).Gaps.Count;
        var start = await Tier.GetAsync();
        var primary = await Tier.InstanceAsync(start.Primary);
        var standbySlots = start.Replicas.Where(r => r.Name != start.Primary).Select(r => LocalFleetOptions.SlotName(r.Name)).ToList();
        var receiver = ArchiverPid();
        var lowered = false;
        var frozen = false;
        try
        {
            await ChaosSlots.ExecuteAsync(primary, "ALTER SYSTEM SET max_slot_wal_keep_size = '128MB'");
            await ChaosSlots.ExecuteAsync(primary, "SELECT pg_reload_conf()");
            lowered = true;
            Assert.True(InstanceProcesses.Signal(receiver, InstanceSignal.Stop));
            frozen = true;
            // Its session ends too, or invalidating the slot would wait on a walsender writing to a frozen client.
            await ChaosSlots.ExecuteAsync(primary, $"SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = '{ArchiveSlot}'");
            var watch = Stopwatch.StartNew();
            while (await ChaosSlots.WalStatusAsync(primary, ArchiveSlot) is not ("lost" or null))
            {
                if (watch.Elapsed > Timeout) throw new TimeoutException($"slot {ArchiveSlot} still {await ChaosSlots.WalStatusAsync(primary, ArchiveSlot)} after {Timeout}");
                await ChaosSlots.ExecuteAsync(primary, "CREATE TABLE IF NOT EXISTS wal_gap_filler (x int); INSERT INTO wal_gap_filler VALUES (1)");
                var switched = await ChaosSlots.ScalarTextAsync(primary, "SELECT pg_switch_wal()::text");
                // The standbys stream on: only the frozen archive may fall behind the lowered limit.
                foreach (var slot in standbySlots) await ChaosSlots.WaitPastAsync(primary, slot, switched, output);
                await ChaosSlots.ExecuteAsync(primary, "CHECKPOINT");
            }
            output.WriteLine($"archiver's slot lost after {watch.ElapsedMilliseconds} ms of WAL switches and checkpoints");
            Assert.True(InstanceProcesses.Signal(receiver, InstanceSignal.Continue));
            frozen = false;
            var thawed = Stopwatch.StartNew();

            var archive = await WaitArchiveAsync(a => a.Gaps.Count > gapsBefore, "a gap in the archive");
            var gap = archive.Gaps[^1];
            output.WriteLine($"{thawed.ElapsedMilliseconds} ms after the thaw: gap {gap.FromLsn} to {gap.ToLsn} on timeline {gap.Timeline}, removed by {gap.Server}; archiver: {archive.LastError}");
            Assert.Equal(start.Primary, gap.Server);
            Assert.False(gap.Bridged);
            var labels = new Dictionary<string, string> { ["tier"] = Tier.Name };
            await AlertWaits.FiringAsync(fixture.Invoker, "local", "WalArchiveGap", labels, Timeout);

            // The backup taken before the gap cannot be restored past it: refused before anything starts.
            var refused = await Assert.ThrowsAsync<RpcException>(() => backups.Client.RestoreAsync(new RestoreRequest
            {
                Tier = Tier.Name, BackupId = before.Id, Target = new RestoreTarget { Latest = true },
            }).ResponseAsync);
            output.WriteLine($"restore across the gap: {refused.Status.StatusCode}: {refused.Status.Detail}");
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains($"the WAL archive has a gap from {gap.FromLsn} to {gap.ToLsn}", refused.Status.Detail, StringComparison.Ordinal);

            // Archiving resumed past the gap, and a base backup taken on the control plane's own initiative bridges it.
            await backups.WaitForArchiveAsync(Timeout);
            output.WriteLine($"{thawed.ElapsedMilliseconds} ms after the thaw: the archive has everything the primary wrote");
            var bridged = await WaitArchiveAsync(a => a.Gaps.Count > gapsBefore && a.Gaps[^1].Bridged, "a base backup bridging the gap", TimeSpan.FromMinutes(4));
            var bridge = (await backups.ListAsync()).Where(b => b.Id != before.Id).MaxBy(b => b.StartedAt.ToDateTimeOffset())!;
            output.WriteLine($"{thawed.ElapsedMilliseconds} ms after the thaw: bridged by backup {bridge.Id} (start lsn {bridge.StartLsn}), principal {bridge.Principal}");
            Assert.True(bridged.Gaps[^1].Bridged);
            await AlertWaits.ResolvedAsync(fixture.Invoker, "local", "WalArchiveGap", labels, Timeout);
        }
        finally
        {
            if (frozen) InstanceProcesses.Signal(receiver, InstanceSignal.Continue);
            if (lowered)
            {
                await ChaosSlots.ExecuteAsync(primary, "DROP TABLE IF EXISTS wal_gap_filler");
                await ChaosSlots.ExecuteAsync(primary, "ALTER SYSTEM RESET max_slot_wal_keep_size");
                await ChaosSlots.ExecuteAsync(primary, "SELECT pg_reload_conf()");
            }
        }
        await Tier.WaitAsync(TierControl.IsConverged, Timeout);
    }

    /// <summary>The tier's pg_receivewal, by the pid file its archiver keeps in the tier's backup repository.</summary>
    private int ArchiverPid()
    {
        var file = Directory.EnumerateFiles(fixture.DataDirectory, "pg_receivewal.pid", SearchOption.AllDirectories)
            .Single(f => f.Contains($"{Path.DirectorySeparatorChar}{Tier.Name}{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        return int.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
    }

    private async Task<ArchiveStatus> WaitArchiveAsync(Func<ArchiveStatus, bool> condition, string what, TimeSpan? timeout = null)
    {
        var backups = new BackupService.BackupServiceClient(fixture.Invoker);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var status = await backups.GetArchiveStatusAsync(new GetArchiveStatusRequest { Tier = Tier.Name });
            if (condition(status)) return status;
            if (watch.Elapsed > (timeout ?? Timeout)) throw new TimeoutException($"no {what} after {timeout ?? Timeout}: {status}");
            await Task.Delay(250);
        }
    }
}
