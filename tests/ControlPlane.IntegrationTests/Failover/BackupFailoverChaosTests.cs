using ControlPlane.IntegrationTests.Backups;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// The WAL archive follows the primary across a failover: a backup taken before the primary is SIGKILLed, restored
/// with all the archived WAL, holds every write acknowledged before, during and after the failover.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class BackupFailoverChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task A_failover_during_wal_streaming_loses_no_wal_needed_for_point_in_time_restore()
    {
        var tier = fixture.Tier;
        var backups = new BackupControl(new BackupService.BackupServiceClient(fixture.Invoker), ChaosSiloFixture.TierName, fixture.PasswordFile);
        await tier.ResetAsync();
        await tier.SetSynchronousModeAsync(SynchronousMode.On);
        try
        {
            await tier.WaitSynchronousStandbysAsync(TimeSpan.FromSeconds(60));
            await backups.WaitForArchiveAsync(TimeSpan.FromMinutes(1));
            var backup = await backups.TakeAsync();
            await using var scenario = await ChaosScenario.BeginAsync(tier, fixture.PasswordFile, output, "archive");
            var start = scenario.Start;
            await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
            await tier.WaitAsync(t => t.Term > start.Term, TimeSpan.FromSeconds(30));
            var (end, _) = await scenario.FinishAsync(noLossExpected: true);

            var archive = await backups.WaitForArchiveAsync(TimeSpan.FromMinutes(1));
            output.WriteLine($"archive after the failover: streaming from {archive.Server}, stored {archive.StoredLsn}, RPO {archive.Rpo.ToTimeSpan().TotalMilliseconds:F0} ms, {archive.Restarts} restarts");
            Assert.Equal(end.Primary, archive.Server);

            var restored = await backups.RestoreAsync(new RestoreTarget { Latest = true }, backup.Id);
            try
            {
                var missing = await scenario.Writer.MissingOnAsync(backups.Instance(restored));
                output.WriteLine($"restore {restored.Id} of {backup.Id} on timeline {restored.Timeline}: {scenario.Writer.Acknowledged.Count} acknowledged writes, {missing.Count} missing");
                Assert.Empty(missing);
                Assert.True(restored.Timeline > backup.Timeline, $"the restore must have followed the archive onto the new timeline (backup on {backup.Timeline}, restored {restored.Timeline})");
            }
            finally
            {
                await backups.DropAsync(restored);
            }
        }
        finally
        {
            await tier.SetSynchronousModeAsync(SynchronousMode.Off);
        }
    }
}
