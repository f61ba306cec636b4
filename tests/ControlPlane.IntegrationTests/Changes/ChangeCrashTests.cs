using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>A silo SIGKILLed in the middle of a rollout: the next silo continues from the persisted batch.</summary>
[Collection(ChangeFleetCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ChangeCrashTests(ChangeFleetFixture fleet, ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_killed_mid_rollout_is_followed_by_one_that_completes_it_without_applying_any_version_twice()
    {
        await fleet.EnsureLedgerAsync();
        var v = fleet.NextVersion();
        // Not idempotent on purpose: run twice on a target, it fails there ("already exists").
        var forward = ChangeFleetFixture.File($"V{v}__crash.sql", $"CREATE TABLE crash_{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n");
        var change = await fleet.SubmitApprovedAsync("survives a silo crash", forward);
        await fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest
        {
            ChangeId = change.ChangeId, CanaryTargets = 1, BatchSize = 5, Concurrency = 2, Pause = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)),
        });
        var midway = await fleet.WaitAsync(change.ChangeId, c => c.Batch >= 3 || ChangeFleetFixture.Settled(c));
        Assert.Equal(ChangePhase.RollingOut, midway.Phase);
        output.WriteLine($"killing the silo at batch {midway.Batch + 1} of {midway.Batches}");

        await fleet.KillAndRestartAsync();
        var done = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
        Assert.True(done.Phase == ChangePhase.Completed, $"ended {done.Phase}: {done.HaltReason}");
        Assert.All(done.Targets, t => Assert.Equal(ChangeTargetState.Applied, t.State));
        await using var sql = await fleet.OpenAsync();
        foreach (var target in fleet.Targets)
        {
            Assert.Single(await ChangeCatalog.HistoryAsync(sql, target), r => r.Version == v);
            Assert.True(await ChangeCatalog.ScalarAsync<bool>(sql, "SELECT to_regclass($1) IS NOT NULL", $"{target}.crash_{v}"));
        }
        fleet.AppliedFiles.Add(forward);
    }
}
