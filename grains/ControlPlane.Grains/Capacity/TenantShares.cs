using ControlPlane.Postgres.Capacity;

namespace ControlPlane.Grains.Capacity;

/// <summary>
/// A tenant's bytes in the shared tables (rows keyed by <c>tenant_id</c>), estimated from the planner's statistics
/// without reading a row, pure: each table's total size times the tenant's share of its rows. The share is the
/// tenant's frequency among the column's most common values when it is one of them (ANALYZE lists every value when
/// there are fewer than the statistics target, 100 by default); otherwise the rows left over by the common values and
/// the nulls, spread evenly over the remaining distinct values. A tenant with a schema of its own is only counted where
/// it is listed: the leftover belongs to the shared tenants.
/// </summary>
public static class TenantShares
{
    /// <summary>The tenant's estimated bytes over <paramref name="tables"/>; null when no table has statistics of its tenant_id (never analysed).</summary>
    public static long? Bytes(IReadOnlyList<SharedTableStats> tables, string tenant, bool ownSchema)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var analysed = tables.Where(t => t.CommonTenants.Count > 0 || t.DistinctValues != 0).ToList();
        if (analysed.Count == 0) return null;
        return (long)Math.Round(analysed.Sum(t => t.Bytes * Share(t, tenant, ownSchema)));
    }

    /// <summary>The tenant's share (0–1) of one table's rows.</summary>
    public static double Share(SharedTableStats table, string tenant, bool ownSchema)
    {
        ArgumentNullException.ThrowIfNull(table);
        for (var i = 0; i < table.CommonTenants.Count && i < table.CommonFrequencies.Count; i++)
        {
            if (string.Equals(table.CommonTenants[i], tenant, StringComparison.Ordinal)) return table.CommonFrequencies[i];
        }
        if (ownSchema) return 0;
        // n_distinct below zero is minus the fraction of rows that are distinct (PostgreSQL's way of saying "grows with the table").
        var distinct = table.DistinctValues < 0 ? -table.DistinctValues * table.Rows : table.DistinctValues;
        var others = distinct - table.CommonTenants.Count;
        if (others < 1) return 0;
        var rest = Math.Max(0, 1 - table.NullFraction - table.CommonFrequencies.Sum());
        return rest / others;
    }
}
