using System.Diagnostics;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Upgrades;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Upgrades;

/// <summary>
/// The pg_upgrade method's runner, end to end with the real pg_upgrade of Debian's PostgreSQL 15. No newer pg_upgrade
/// exists on the test machines (docs/upgrades.md), and the policy rightly refuses a target that is not newer, so this
/// drives the runner itself 15 → 15 (pg_upgrade supports a same-major run; its own test suite does this) on a restore
/// of the fixture's backup, and then its scratch removal with a tool left working in the scratch.
/// </summary>
public sealed partial class UpgradeRehearsalTests
{
    [Fact]
    public async Task Pg_upgrade_runner_checks_links_and_starts_a_restored_copy_with_equal_counts_and_its_removal_kills_what_still_works_there()
    {
        await fixture.ReadyAsync();
        var pg15 = PgInstallations.Read(15, Path.Combine(PgInstallations.DebianRoot, "15", "bin"), PgInstallation.Debian);
        Assert.Empty(pg15.Missing(PgInstallation.PgUpgradeNewTools));
        var backup = (await fixture.Backups.ListAsync()).Where(b => b.Verified).MaxBy(b => b.FinishedAt)!;
        var repository = new TierRepository(backup.Repositories[0], backup.Environment, Tier);
        // Beside the grain's scratch (<root>/<env>/<tier>), never inside it: the grain removes what it did not record.
        var scratch = new RehearsalScratch(Path.Combine(fixture.ScratchRoot, "runner-tests", Guid.NewGuid().ToString("N")[..8]));
        var credentials = new ReplicaEndpoint(Tier, "rehearsal", "127.0.0.1", 0, "postgres", "postgres", fixture.SuperuserPasswordFile, null);
        var target = backup.RestorePoint.Length > 0 ? new RecoveryTarget(RecoveryTargetKind.RestorePoint, Name: backup.RestorePoint) : RecoveryTarget.Immediate;
        var request = new UpgradeRehearsalRequest(
            new RestoreRequest(repository.BackupDirectory(backup.Id), repository.WalDirectory, scratch.SourceData, TestPorts.Reserve(), credentials, target),
            scratch, pg15, pg15, ["SELECT tenant, total FROM upgrade_totals"]);
        var runner = new UpgradeRehearsalRunner(NullLogger.Instance);
        var phases = new List<RehearsalPhase>();
        UpgradeRehearsalRunner.CreateScratch(scratch);
        try
        {
            var outcome = await runner.RehearsePgUpgradeAsync(request, p =>
            {
                phases.Add(p);
                output.WriteLine($"{p.Name,-14} {p.Duration.TotalSeconds,7:0.00}s  {p.Detail}");
                return Task.CompletedTask;
            }, CancellationToken.None);

            output.WriteLine($"issues: {string.Join(" | ", outcome.Issues)}; write gap {outcome.CutoverWriteGap}");
            Assert.Null(outcome.Failure);
            Assert.Equal(["restore", "source counts", "target", "check", "upgrade", "start", "counts", "smoke"], phases.Select(p => p.Name));
            Assert.Contains("checks passed, 0 finding(s), clusters are compatible", phases.Single(p => p.Name == "check").Detail, StringComparison.Ordinal);
            Assert.Empty(outcome.Issues);
            foreach (var (table, rows) in fixture.Rows)
            {
                var count = outcome.Counts.Single(c => c.Table == table);
                Assert.Equal(rows, count.Before);
                Assert.Equal(rows, count.After);
            }
            Assert.All(outcome.Counts, c => Assert.Equal(c.Before, c.After));
            Assert.All(outcome.Smoke, s => Assert.True(s.Passed, $"{s.Database}: {s.Query}: {s.Detail}"));
            Assert.Contains(outcome.Smoke, s => s.Query.Contains("upgrade_totals", StringComparison.Ordinal));
            Assert.NotNull(outcome.CutoverWriteGap);
            // pg_upgrade --link made the source copy's files the upgraded cluster's: the old one is disabled.
            Assert.True(File.Exists(Path.Combine(scratch.SourceData, "global", "pg_control.old")));

            // The upgraded cluster still runs; beside it, a stand-in for a tool a crash left behind (an orphaned
            // pg_dump or pg_upgrade): a process working in the scratch. Removal leaves neither.
            using var orphan = Process.Start(new ProcessStartInfo("sleep", "600") { WorkingDirectory = scratch.Work, UseShellExecute = false })!;
            Assert.NotEmpty(ScratchPostgres(scratch.Root));
            await runner.DestroyAsync(scratch, CancellationToken.None);
            Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(10)));
            Assert.False(Directory.Exists(scratch.Root));
            Assert.Empty(ScratchPostgres(scratch.Root));
        }
        finally
        {
            await runner.DestroyAsync(scratch, CancellationToken.None);
        }
    }
}
