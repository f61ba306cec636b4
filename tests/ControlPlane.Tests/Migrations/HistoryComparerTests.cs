using ControlPlane.Migrations.History;
using ControlPlane.Migrations.Sets;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>A target's history against a set: what is pending and what drifted.</summary>
public sealed class HistoryComparerTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static MigrationSet Set(params long[] versions) =>
        MigrationSets.Of(versions.Select(v => ($"V{v}__m{v}.sql", $"SELECT {v};")).ToArray());

    private static AppliedMigration Applied(MigrationSet set, long version, string? checksum = null) =>
        new(version, checksum ?? set.Find(version)!.Forward.Checksum, At.AddMinutes(version), "operator", TimeSpan.FromMilliseconds(12), $"chg-{version}");

    [Fact]
    public void A_fresh_target_has_every_version_pending_in_order()
    {
        var comparison = HistoryComparer.Compare(Set(3, 1, 2), []);

        Assert.Equal([1L, 2L, 3L], comparison.Pending);
        Assert.Empty(comparison.Drift);
    }

    [Fact]
    public void Versions_above_the_newest_applied_are_pending()
    {
        var set = Set(1, 2, 3);

        var comparison = HistoryComparer.Compare(set, [Applied(set, 1), Applied(set, 2)]);

        Assert.Equal([3L], comparison.Pending);
        Assert.False(comparison.Blocked);
    }

    [Fact]
    public void An_edited_applied_file_is_checksum_drift()
    {
        var set = Set(1, 2);

        var comparison = HistoryComparer.Compare(set, [Applied(set, 1, "0badc0de"), Applied(set, 2)]);

        var drift = Assert.Single(comparison.Drift);
        Assert.Equal(DriftKind.ChecksumMismatch, drift.Kind);
        Assert.Contains("V1__m1.sql", drift.Message, StringComparison.Ordinal);
        Assert.True(comparison.Blocked);
    }

    [Fact]
    public void An_applied_version_unknown_to_the_set_is_drift()
    {
        var set = Set(1);

        var comparison = HistoryComparer.Compare(set, [Applied(set, 1), new AppliedMigration(7, "abc", At, "hand", TimeSpan.Zero, "manual")]);

        Assert.Equal(DriftKind.UnknownVersion, Assert.Single(comparison.Drift).Kind);
    }

    [Fact]
    public void A_missing_version_below_the_newest_applied_is_drift_not_pending()
    {
        var set = Set(1, 2, 3, 4);

        var comparison = HistoryComparer.Compare(set, [Applied(set, 1), Applied(set, 3)]);

        var drift = Assert.Single(comparison.Drift);
        Assert.Equal((DriftKind.MissingVersion, 2L), (drift.Kind, drift.Version));
        Assert.Equal([4L], comparison.Pending);
    }

    [Fact]
    public void A_version_recorded_twice_is_drift()
    {
        var set = Set(1);

        var comparison = HistoryComparer.Compare(set, [Applied(set, 1), Applied(set, 1) with { ChangeId = "again" }]);

        Assert.Equal(DriftKind.AppliedTwice, Assert.Single(comparison.Drift).Kind);
    }

    // Properties over random sets (distinct versions) and a random applied prefix.
    private static readonly Gen<(long[] Versions, int Applied)> Case =
        Gen.Long[1, 10_000].HashSet[1, 30].SelectMany(versions =>
        {
            var sorted = versions.Order().ToArray();
            return Gen.Int[0, sorted.Length].Select(applied => (sorted, applied));
        });

    [Fact]
    public void Applying_a_prefix_in_order_leaves_exactly_the_rest_pending_and_no_drift() =>
        Case.Sample(c =>
        {
            var set = Set(c.Versions);
            var history = c.Versions.Take(c.Applied).Select(v => Applied(set, v)).ToArray();

            var comparison = HistoryComparer.Compare(set, history);

            Assert.Empty(comparison.Drift);
            Assert.Equal(c.Versions.Skip(c.Applied), comparison.Pending);
        });

    [Fact]
    public void Applying_everything_pending_brings_the_target_up_to_date() =>
        Case.Sample(c =>
        {
            var set = Set(c.Versions);
            var history = c.Versions.Take(c.Applied).Select(v => Applied(set, v)).ToList();

            history.AddRange(HistoryComparer.Compare(set, history).Pending.Select(v => Applied(set, v)));

            Assert.True(HistoryComparer.Compare(set, history).UpToDate);
        });

    [Fact]
    public void Removing_one_applied_row_below_the_newest_reports_exactly_that_version_missing() =>
        Case.Where(c => c.Applied >= 2).SelectMany(c => Gen.Int[0, c.Applied - 2].Select(hole => (c.Versions, c.Applied, hole))).Sample(c =>
        {
            var set = Set(c.Versions);
            var history = c.Versions.Take(c.Applied).Where((_, i) => i != c.hole).Select(v => Applied(set, v)).ToArray();

            var drift = Assert.Single(HistoryComparer.Compare(set, history).Drift);

            Assert.Equal((DriftKind.MissingVersion, c.Versions[c.hole]), (drift.Kind, drift.Version));
        });

    [Fact]
    public void Editing_any_applied_file_reports_exactly_that_version_and_blocks() =>
        Case.Where(c => c.Applied >= 1).SelectMany(c => Gen.Int[0, c.Applied - 1].Select(edited => (c.Versions, c.Applied, edited))).Sample(c =>
        {
            var set = Set(c.Versions);
            var history = c.Versions.Take(c.Applied)
                .Select((v, i) => Applied(set, v, i == c.edited ? new string('0', 64) : null)).ToArray();

            var comparison = HistoryComparer.Compare(set, history);

            var drift = Assert.Single(comparison.Drift);
            Assert.Equal((DriftKind.ChecksumMismatch, c.Versions[c.edited]), (drift.Kind, drift.Version));
            Assert.True(comparison.Blocked);
        });

    [Fact]
    public void Pending_and_applied_never_overlap_and_pending_is_ascending() =>
        Gen.Select(Case, Gen.Long[1, 10_000].HashSet[0, 10]).Sample(c =>
        {
            var set = Set(c.Item1.Versions);
            // A history with arbitrary versions: some in the set, some not.
            var history = c.Item2.Select(v => new AppliedMigration(v, set.Find(v)?.Forward.Checksum ?? "x", At, "op", TimeSpan.Zero, "c")).ToArray();

            var comparison = HistoryComparer.Compare(set, history);

            Assert.Empty(comparison.Pending.Intersect(c.Item2));
            Assert.Equal(comparison.Pending.Order(), comparison.Pending);
            Assert.All(comparison.Pending, v => Assert.NotNull(set.Find(v)));
        });
}
