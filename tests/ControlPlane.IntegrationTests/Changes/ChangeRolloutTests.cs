using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>Change rollouts on the real one-tier fleet with 50 tenant schemas: batches, halt and resume, rollback, drift.</summary>
[Collection(ChangeFleetCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ChangeRolloutTests(ChangeFleetFixture fleet, ITestOutputHelper output)
{
    [Fact]
    public async Task A_concurrently_built_index_rolls_out_canary_first_then_in_batches_while_a_writer_keeps_writing()
    {
        await fleet.EnsureLedgerAsync();
        var v = fleet.NextVersion();
        var forward = ChangeFleetFixture.File($"V{v}__ledger_at.sql",
            $"-- controlplane:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_at_{v} ON ledger (at);\n");
        var undo = ChangeFleetFixture.File($"U{v}__ledger_at.sql",
            $"-- controlplane:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS ledger_at_{v};\n");
        await using var writer = await LedgerWriter.StartAsync(fleet, [fleet.Targets[0], fleet.Targets[5], fleet.Targets[^2]]);
        await writer.WaitForWritesAsync(20);

        var change = await fleet.SubmitApprovedAsync("index ledger.at without blocking writers", forward, undo);
        Assert.Contains(change.Plan, p => p.Version == v && p.Lock == "SHARE UPDATE EXCLUSIVE");
        // The plan read the targets' table sizes: an index build on the small ledger tables takes an instant, not "Unknown".
        Assert.Contains(change.Plan, p => p.Version == v && p.Duration == "Instant");
        await fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest
        {
            ChangeId = change.ChangeId, CanaryTargets = 1, BatchSize = 10, Concurrency = 4, Pause = Duration.FromTimeSpan(TimeSpan.FromMilliseconds(500)),
        });
        var done = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
        var writesDuring = writer.Writes;
        await writer.WaitForWritesAsync(writesDuring + 10);
        await writer.DisposeAsync();

        Assert.True(done.Phase == ChangePhase.Completed, $"ended {done.Phase}: {done.HaltReason}");
        Assert.All(done.Targets, t => Assert.Equal(ChangeTargetState.Applied, t.State));
        Assert.Equal(0, writer.Failures);
        output.WriteLine($"writer: {writer.Writes} writes, longest {writer.Longest.TotalMilliseconds:F0} ms, {writer.Failures} failures");

        await using var sql = await fleet.OpenAsync();
        var appliedAt = new Dictionary<string, DateTime>();
        foreach (var target in fleet.Targets)
        {
            Assert.True(await ChangeCatalog.ScalarAsync<bool>(sql,
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                target, $"ledger_at_{v}"), $"index valid on {target}");
            var row = Assert.Single(await ChangeCatalog.HistoryAsync(sql, target), r => r.Version == v);
            Assert.Equal(change.ChangeId, row.ChangeId);
            appliedAt[target] = row.AppliedAt;
        }
        // Batch by batch: every target of a batch applied before any target of the next one (the canary first of all).
        var byBatch = done.Targets.GroupBy(t => t.Batch).OrderBy(g => g.Key).ToList();
        Assert.Single(byBatch[0]);
        Assert.Equal(fleet.Targets[0], byBatch[0].Single().Schema);
        for (var b = 1; b < byBatch.Count; b++)
            Assert.True(byBatch[b - 1].Max(t => appliedAt[t.Schema]) <= byBatch[b].Min(t => appliedAt[t.Schema]), $"batch {b} started after batch {b - 1} ended");
        fleet.AppliedFiles.AddRange([forward, undo]);
    }

    [Fact]
    public async Task A_migration_failing_on_one_tenant_halts_the_rollout_and_a_fix_then_resume_completes_it()
    {
        await fleet.EnsureLedgerAsync();
        var v = fleet.NextVersion();
        var broken = fleet.Targets[24];
        await using var sql = await fleet.OpenAsync();
        // Someone created the table by hand on one tenant: the change's CREATE TABLE fails there.
        await ChangeCatalog.ExecuteAsync(sql, $"CREATE TABLE {broken}.audit_{v} (id int)");
        var forward = ChangeFleetFixture.File($"V{v}__audit.sql", $"CREATE TABLE audit_{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text NOT NULL);\n");
        var change = await fleet.SubmitApprovedAsync("audit table", forward);
        await fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId, CanaryTargets = 1, BatchSize = 10, Concurrency = 4, Pause = new Duration() });

        var halted = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
        Assert.Equal(ChangePhase.Halted, halted.Phase);
        var failed = Assert.Single(halted.Targets, t => t.State == ChangeTargetState.Failed);
        Assert.Equal(broken, failed.Schema);
        Assert.Equal(v, failed.FailedVersion);
        Assert.Contains("already exists", failed.Error, StringComparison.Ordinal);
        Assert.Contains($"CREATE TABLE audit_{v}", failed.Statement, StringComparison.Ordinal);
        Assert.Contains(broken, halted.HaltReason, StringComparison.Ordinal);
        Assert.All(halted.Targets.Where(t => t.Batch > failed.Batch), t => Assert.Equal(ChangeTargetState.Pending, t.State));
        Assert.False(await ChangeCatalog.ScalarAsync<bool>(sql, "SELECT to_regclass($1) IS NOT NULL", $"{fleet.Targets[^1]}.audit_{v}"));

        // While it holds the tier, no other change may roll out there.
        var other = await fleet.SubmitApprovedAsync("another change", forward);
        var busy = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = other.ChangeId }).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, busy.StatusCode);
        Assert.Contains(change.ChangeId, busy.Status.Detail, StringComparison.Ordinal);

        await ChangeCatalog.ExecuteAsync(sql, $"DROP TABLE {broken}.audit_{v}");
        await fleet.Admin.ResumeChangeAsync(new ChangeRequest { ChangeId = change.ChangeId });
        var done = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
        Assert.True(done.Phase == ChangePhase.Completed, $"ended {done.Phase}: {done.HaltReason}");
        foreach (var target in fleet.Targets) Assert.Single(await ChangeCatalog.HistoryAsync(sql, target), r => r.Version == v);
        fleet.AppliedFiles.Add(forward);
    }

    /// <summary>
    /// An SRE halting a rollout is answered while the batch is still in flight: the halt interleaves with the batch,
    /// the targets of that batch that had not started never start, and no later batch runs.
    /// </summary>
    [Fact]
    public async Task Halt_is_answered_while_a_batch_is_in_flight_and_the_rest_of_the_batch_never_starts()
    {
        await fleet.EnsureLedgerAsync();
        var v = fleet.NextVersion();
        var forward = ChangeFleetFixture.File($"V{v}__slow.sql", $"SELECT pg_sleep(0.7);\nCREATE TABLE halt_{v} (id bigint);\n");
        var undo = ChangeFleetFixture.File($"U{v}__slow.sql", $"DROP TABLE halt_{v};\n");
        var change = await fleet.SubmitApprovedAsync("a slow change to halt", forward, undo);
        await fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId, CanaryTargets = 1, BatchSize = 20, Concurrency = 1, Pause = new Duration() });
        // Batch 1 (after the canary) has begun: one of its targets is applied, nineteen are still to come one by one.
        await fleet.WaitAsync(change.ChangeId, c => c.Targets.Any(t => t.Batch == 1 && t.State == ChangeTargetState.Applied));

        var halted = await fleet.Admin.HaltChangeAsync(new HaltChangeRequest { ChangeId = change.ChangeId, Reason = "looks wrong" });
        Assert.Equal(ChangePhase.Halted, halted.Phase);
        Assert.Contains("looks wrong", halted.HaltReason, StringComparison.Ordinal);
        Assert.Contains(halted.Targets, t => t.Batch == 1 && t.State == ChangeTargetState.Applying);

        var settled = await fleet.WaitAsync(change.ChangeId, c => c.Targets.All(t => t.State != ChangeTargetState.Applying));
        Assert.Equal(ChangePhase.Halted, settled.Phase);
        var batch1 = settled.Targets.Where(t => t.Batch == 1).ToList();
        Assert.Contains(batch1, t => t.State == ChangeTargetState.Pending);
        Assert.All(settled.Targets.Where(t => t.Batch > 1), t => Assert.Equal(ChangeTargetState.Pending, t.State));
        await using var sql = await fleet.OpenAsync();
        foreach (var target in settled.Targets)
        {
            var exists = await ChangeCatalog.ScalarAsync<bool>(sql, "SELECT to_regclass($1) IS NOT NULL", $"{target.Schema}.halt_{v}");
            Assert.True(exists == (target.State == ChangeTargetState.Applied), $"{target.Schema} is {target.State} but its table exists: {exists}");
        }

        await fleet.Admin.RollbackChangeAsync(new ChangeRequest { ChangeId = change.ChangeId });
        var rolledBack = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
        Assert.True(rolledBack.Phase == ChangePhase.RolledBack, $"ended {rolledBack.Phase}: {rolledBack.HaltReason}");
    }

    [Fact]
    public async Task Rollback_returns_every_target_to_its_previous_schema()
    {
        await fleet.EnsureLedgerAsync();
        await fleet.CatchUpAsync();
        var v = fleet.NextVersion();
        await using var sql = await fleet.OpenAsync();
        var before = new Dictionary<string, string>();
        foreach (var target in fleet.Targets) before[target] = await ChangeCatalog.DescribeAsync(sql, target);
        var forward = ChangeFleetFixture.File($"V{v}__memo.sql",
            $"ALTER TABLE ledger ADD COLUMN memo_{v} text;\nCREATE TABLE extra_{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, memo text);\n");
        var undo = ChangeFleetFixture.File($"U{v}__memo.sql", $"DROP TABLE extra_{v};\nALTER TABLE ledger DROP COLUMN memo_{v};\n");
        var change = await fleet.SubmitApprovedAsync("memo column and extra table", forward, undo);
        await fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId, CanaryTargets = 1, BatchSize = 25, Concurrency = 8, Pause = new Duration() });
        var rolledOut = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
        Assert.True(rolledOut.Phase == ChangePhase.Completed, $"ended {rolledOut.Phase}: {rolledOut.HaltReason}");
        Assert.NotEqual(before[fleet.Targets[3]], await ChangeCatalog.DescribeAsync(sql, fleet.Targets[3]));

        await fleet.Admin.RollbackChangeAsync(new ChangeRequest { ChangeId = change.ChangeId });
        var rolledBack = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
        Assert.True(rolledBack.Phase == ChangePhase.RolledBack, $"ended {rolledBack.Phase}: {rolledBack.HaltReason}");
        foreach (var target in fleet.Targets)
        {
            Assert.Equal(before[target], await ChangeCatalog.DescribeAsync(sql, target));
            Assert.DoesNotContain(await ChangeCatalog.HistoryAsync(sql, target), r => r.Version == v);
        }
    }

    [Fact]
    public async Task Drift_from_a_hand_made_change_blocks_that_target_and_is_reported_while_the_others_roll_out()
    {
        await fleet.EnsureLedgerAsync();
        var drifted = fleet.Targets[6];
        var edited = fleet.AppliedFiles[0].Name;
        var editedVersion = long.Parse(edited[1..edited.IndexOf("__", StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        await using var sql = await fleet.OpenAsync();
        var original = await ChangeCatalog.ScalarAsync<string>(sql, $"SELECT checksum FROM controlplane_changes.{drifted} WHERE version = $1", editedVersion);
        // By hand: someone re-applied an edited version of an applied file and recorded its checksum.
        await ChangeCatalog.ExecuteAsync(sql, $"UPDATE controlplane_changes.{drifted} SET checksum = 'edited-by-hand' WHERE version = $1", editedVersion);
        try
        {
            var v = fleet.NextVersion();
            var forward = ChangeFleetFixture.File($"V{v}__drift.sql", $"CREATE TABLE drift_{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n");
            var change = await fleet.SubmitApprovedAsync("drift check", forward);
            var planned = Assert.Single(change.Targets, t => t.Schema == drifted);
            Assert.Equal(ChangeTargetState.Blocked, planned.State);
            Assert.Contains(planned.Drift, d => d.Contains(edited, StringComparison.Ordinal) && d.Contains("edited", StringComparison.Ordinal));

            await fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId, BatchSize = 25, Concurrency = 8, Pause = new Duration() });
            var done = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
            Assert.True(done.Phase == ChangePhase.Completed, $"ended {done.Phase}: {done.HaltReason}");
            Assert.Equal(ChangeTargetState.Blocked, done.Targets.Single(t => t.Schema == drifted).State);
            Assert.All(done.Targets.Where(t => t.Schema != drifted), t => Assert.Equal(ChangeTargetState.Applied, t.State));
            Assert.Contains(done.History, h => h.Event.Contains("1 blocked by drift", StringComparison.Ordinal));
            Assert.False(await ChangeCatalog.ScalarAsync<bool>(sql, "SELECT to_regclass($1) IS NOT NULL", $"{drifted}.drift_{v}"));
            fleet.AppliedFiles.Add(forward);
        }
        finally
        {
            await ChangeCatalog.ExecuteAsync(sql, $"UPDATE controlplane_changes.{drifted} SET checksum = $2 WHERE version = $1", editedVersion, original);
        }
    }
}
