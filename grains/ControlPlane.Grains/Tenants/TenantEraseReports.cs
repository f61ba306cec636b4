using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Grains.Tenants;

/// <summary>Seals an erase report: the digest is SHA-256 over a canonical text of everything it says, in a fixed order.</summary>
public static class TenantEraseReports
{
    public static TenantEraseReport Seal(string tenant, DateTimeOffset completedAt, IReadOnlyList<TierEraseReport> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var ordered = tiers.OrderBy(t => t.Tier, StringComparer.Ordinal).ToList();
        return new TenantEraseReport(tenant, completedAt, ordered, Digest(tenant, completedAt, ordered));
    }

    /// <summary>The canonical text a digest covers; anyone holding a report can recompute and compare.</summary>
    public static string Canonical(string tenant, DateTimeOffset completedAt, IReadOnlyList<TierEraseReport> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"tenant={tenant}\ncompleted={completedAt.UtcDateTime:O}\n");
        foreach (var t in tiers.OrderBy(t => t.Tier, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"tier={t.Tier} replica={t.Replica} schema_remains={t.SchemaRemains} role_remains={t.RoleRemains} rows_remaining={t.RowsRemaining}\n");
            foreach (var r in t.Removed) text.Append(CultureInfo.InvariantCulture, $"removed={r}\n");
            foreach (var r in t.Rows.OrderBy(r => r.Table, StringComparer.Ordinal)) text.Append(CultureInfo.InvariantCulture, $"rows={r.Table}:{r.Before}->{r.After}\n");
        }
        return text.ToString();
    }

    private static string Digest(string tenant, DateTimeOffset completedAt, IReadOnlyList<TierEraseReport> tiers) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(tenant, completedAt, tiers))));
}
