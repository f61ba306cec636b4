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

    private static string Digest(string tenant, DateTimeOffset completedAt, IReadOnlyList<TierEraseReport> tiers) => Sha256(Canonical(tenant, completedAt, tiers));

    /// <summary>Seals an anonymisation report the same way: SHA-256 over <see cref="AnonymiseCanonical"/>.</summary>
    public static TenantAnonymiseReport SealAnonymise(string tenant, string operation, DateTimeOffset completedAt, IReadOnlyList<TierAnonymiseReport> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var ordered = tiers.OrderBy(t => t.Tier, StringComparer.Ordinal).ToList();
        return new TenantAnonymiseReport(tenant, operation, completedAt, ordered, Sha256(AnonymiseCanonical(tenant, operation, completedAt, ordered)));
    }

    /// <summary><c>tenant=</c>, <c>operation=</c>, <c>completed=</c>, then per tier in name order and per column: what was replaced and what remained.</summary>
    public static string AnonymiseCanonical(string tenant, string operation, DateTimeOffset completedAt, IReadOnlyList<TierAnonymiseReport> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"tenant={tenant}\noperation={operation}\ncompleted={completedAt.UtcDateTime:O}\n");
        foreach (var t in tiers.OrderBy(t => t.Tier, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"tier={t.Tier} replica={t.Replica}\n");
            foreach (var c in t.Columns.OrderBy(c => c.Table, StringComparer.Ordinal).ThenBy(c => c.Column, StringComparer.Ordinal))
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"column={c.Table}.{c.Column} kind={c.Kind} rows={c.Rows} updated={c.Updated} values={c.Values} originals_remaining={c.OriginalsRemaining} note={c.Note}\n");
            }
        }
        return text.ToString();
    }

    private static string Sha256(string canonical) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
}
