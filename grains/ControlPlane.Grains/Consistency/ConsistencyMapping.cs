using ControlPlane.Postgres.Consistency;

namespace ControlPlane.Grains.Consistency;

/// <summary>The Postgres layer's comparison as the grain's stored report.</summary>
public static class ConsistencyMapping
{
    public static ConsistencyReport ToReport(
        string env, string tier, string primary, ReplicaComparison comparison, IReadOnlyList<PairConsistency> pairs,
        TimeSpan duration, bool scheduled, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var tables = comparison.Tables.Select(t => new TableConsistency(
            t.Table,
            t.Mode switch
            {
                TableMode.KeyRanges => ConsistencyTableMode.KeyRanges,
                TableMode.WholeTable => ConsistencyTableMode.WholeTable,
                _ => ConsistencyTableMode.WholeTableNoPrimaryKey,
            },
            t.Chunks,
            new ReplicaTableDigest(primary, t.Primary.Rows, t.Primary.Hex),
            t.Standbys.Select(s => new ReplicaTableDigest(s.Replica, s.Digest.Rows, s.Digest.Hex)).ToList(),
            t.Differences.Select(d => new ConsistencyMismatch(d.Replica, d.Range.ToString(), d.Range.From, d.Range.To, d.Primary.Rows, d.OnReplica.Rows)).ToList(),
            t.Warning)).ToList();
        var standbys = comparison.Standbys.Select(s => new StandbyConsistency(s.Replica, s.ReplayLsn ?? "", s.Error)).ToList();
        return new ConsistencyReport(env, tier, now, duration, primary, comparison.Lsn, standbys, tables, pairs, comparison.RowsCompared, scheduled);
    }
}
