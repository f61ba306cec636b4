using System.Diagnostics;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Upgrades;

/// <summary>
/// Major-upgrade rehearsals on the real fleet through the gateway: 15 → 17 by logical replication with the npm
/// PostgreSQL 17 binaries, 15 → 17 by dump, the pg_upgrade runner 15 → 15 (UpgradeRehearsalTests.PgUpgrade.cs), refusals
/// that say why, and a rehearsal cut short by a silo crash.
/// </summary>
[Trait("Category", "Postgres")]
public sealed partial class UpgradeRehearsalTests(UpgradeFleetFixture fixture, ITestOutputHelper output) : IClassFixture<UpgradeFleetFixture>
{
    private const string Tier = UpgradeFleetFixture.TierName;
    private static readonly TimeSpan RehearsalTimeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task Logical_rehearsal_from_15_to_17_completes_with_equal_counts_and_reports_its_duration_and_cutover_write_gap()
    {
        await fixture.ReadyAsync();
        var started = await fixture.Upgrades.RehearseUpgradeAsync(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 17, Method = UpgradeMethod.Logical });
        Assert.Equal(UpgradeRehearsalState.Running, started.State);
        Assert.Equal(15, started.SourceVersion);

        var done = await fixture.WaitAsync(started.Id, RehearsalTimeout);
        output.WriteLine(done.ToString());
        Assert.True(done.State == UpgradeRehearsalState.Succeeded, $"{done.State}: {done.Error}; issues: {string.Join(" | ", done.Issues)}");
        Assert.True(done.CountsEqual);
        foreach (var (table, rows) in fixture.Rows)
        {
            var count = done.Counts.Single(c => c.Table == table);
            Assert.Equal(rows, count.Before);
            Assert.Equal(rows, count.After);
        }
        Assert.NotNull(done.Duration);
        Assert.NotNull(done.CutoverWriteGap);
        Assert.True(done.HasMaxLagBytes);
        Assert.Equal(["restore", "target", "schema", "initial copy", "catch-up", "cutover", "counts", "smoke"], done.Phases.Select(p => p.Name));
        Assert.All(done.Smoke, s => Assert.True(s.Passed, $"{s.Database}: {s.Query}: {s.Detail}"));
        Assert.Contains($"server of PostgreSQL 17 in {UpgradeFleetFixture.Pg17}", done.Installations, StringComparison.Ordinal);
        Assert.True(done.CleanedUp);
        Assert.False(Directory.Exists(done.ScratchDirectory));
    }

    [Fact]
    public async Task Dump_rehearsal_from_15_to_17_completes_with_equal_counts()
    {
        await fixture.ReadyAsync();
        var started = await fixture.Upgrades.RehearseUpgradeAsync(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 17, Method = UpgradeMethod.Dump });
        var done = await fixture.WaitAsync(started.Id, RehearsalTimeout);
        output.WriteLine(done.ToString());
        Assert.True(done.State == UpgradeRehearsalState.Succeeded, $"{done.State}: {done.Error}; issues: {string.Join(" | ", done.Issues)}");
        Assert.True(done.CountsEqual);
        foreach (var (table, rows) in fixture.Rows)
        {
            var count = done.Counts.Single(c => c.Table == table);
            Assert.Equal(rows, count.Before);
            Assert.Equal(rows, count.After);
        }
        Assert.Equal(["restore", "target", "roles", "dump", "load", "counts", "smoke"], done.Phases.Select(p => p.Name));
        Assert.Contains("recommends the target's own pg_dump", done.Installations, StringComparison.Ordinal);
        Assert.NotNull(done.CutoverWriteGap);
        Assert.True(done.CleanedUp);
    }

    [Fact]
    public async Task Rehearsals_that_cannot_run_here_are_refused_with_the_reason()
    {
        await fixture.ReadyAsync();
        var noBinaries = await Refused(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 18, Method = UpgradeMethod.Logical });
        Assert.Equal(StatusCode.FailedPrecondition, noBinaries.StatusCode);
        Assert.Contains("no PostgreSQL 18 installation", noBinaries.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("ControlPlane:Upgrades:Installations:18", noBinaries.Status.Detail, StringComparison.Ordinal);

        var noPgUpgrade = await Refused(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 17, Method = UpgradeMethod.PgUpgrade });
        Assert.Equal(StatusCode.FailedPrecondition, noPgUpgrade.StatusCode);
        Assert.Contains($"not possible: no pg_upgrade in {UpgradeFleetFixture.Pg17}", noPgUpgrade.Status.Detail, StringComparison.Ordinal);

        var notNewer = await Refused(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 15, Method = UpgradeMethod.Dump });
        Assert.Equal(StatusCode.FailedPrecondition, notNewer.StatusCode);
        Assert.Contains("target version 15 is not newer than the tier's 15", notNewer.Status.Detail, StringComparison.Ordinal);

        var noMethod = await Refused(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 17 });
        Assert.Equal(StatusCode.InvalidArgument, noMethod.StatusCode);
        Assert.Contains("method", noMethod.Status.Detail, StringComparison.Ordinal);

        var badVersion = await Refused(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 170, Method = UpgradeMethod.Logical });
        Assert.Equal(StatusCode.InvalidArgument, badVersion.StatusCode);
        Assert.Contains("target_version 170", badVersion.Status.Detail, StringComparison.Ordinal);

        var unknownTier = await Refused(new RehearseUpgradeRequest { Tier = "nosuchtier", TargetVersion = 17, Method = UpgradeMethod.Logical });
        Assert.Equal(StatusCode.NotFound, unknownTier.StatusCode);

        var targets = await fixture.Upgrades.ListUpgradeTargetsAsync(new ListUpgradeTargetsRequest { Tier = Tier });
        var seventeen = targets.Targets.Single(t => t.Version == 17);
        Assert.Equal("configured", seventeen.Origin);
        Assert.True(seventeen.Methods.Single(m => m.Method == UpgradeMethod.Logical).Possible);
        Assert.True(seventeen.Methods.Single(m => m.Method == UpgradeMethod.Dump).Possible);
        Assert.False(seventeen.Methods.Single(m => m.Method == UpgradeMethod.PgUpgrade).Possible);
    }

    [Fact]
    public async Task A_rehearsal_cut_short_by_a_silo_crash_is_reported_interrupted_and_its_scratch_instances_are_removed_by_the_next_silo_unasked()
    {
        await fixture.ReadyAsync();
        var started = await fixture.Upgrades.RehearseUpgradeAsync(new RehearseUpgradeRequest { Tier = Tier, TargetVersion = 17, Method = UpgradeMethod.Logical });
        // Crash once the restored source runs (a postgres process of the scratch directory exists).
        await fixture.Silo.WaitUntilAsync(() => Task.FromResult(ScratchPostgres(started.ScratchDirectory).Count > 0), TimeSpan.FromMinutes(3));
        output.WriteLine($"killing the silo with scratch processes {string.Join(", ", ScratchPostgres(started.ScratchDirectory))}");
        await fixture.CrashAndRelaunchAsync();

        // No upgrade call until the leftovers are gone: the new silo's keeper activates the tier's rehearsal grain itself.
        await fixture.Silo.WaitUntilAsync(() => Task.FromResult(ScratchPostgres(started.ScratchDirectory).Count == 0 && !Directory.Exists(started.ScratchDirectory)),
            TimeSpan.FromMinutes(3));
        var after = await fixture.WaitAsync(started.Id, TimeSpan.FromMinutes(3));
        Assert.Equal(UpgradeRehearsalState.Interrupted, after.State);
        Assert.Contains("interrupted", after.Error, StringComparison.Ordinal);
        Assert.True(after.CleanedUp);
        Assert.False(Directory.Exists(started.ScratchDirectory));
        await fixture.Silo.WaitUntilAsync(() => Task.FromResult(ScratchPostgres(started.ScratchDirectory).Count == 0), TimeSpan.FromSeconds(30));
    }

    private async Task<RpcException> Refused(RehearseUpgradeRequest request)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await fixture.Upgrades.RehearseUpgradeAsync(request));
        output.WriteLine($"{request.TargetVersion} {request.Method}: {refused.StatusCode}: {refused.Status.Detail}");
        return refused;
    }

    /// <summary>Processes whose command line names the scratch directory (the postgres servers of the rehearsal).</summary>
    private static List<int> ScratchPostgres(string scratch) =>
        [.. Directory.EnumerateDirectories("/proc").Select(d => Path.GetFileName(d))
            .Where(p => p.All(char.IsAsciiDigit))
            .Where(p =>
            {
                try { return File.ReadAllText($"/proc/{p}/cmdline").Replace('\0', ' ').Contains(scratch, StringComparison.Ordinal); }
                catch (IOException) { return false; }
                catch (UnauthorizedAccessException) { return false; }
            })
            .Select(int.Parse)];
}
