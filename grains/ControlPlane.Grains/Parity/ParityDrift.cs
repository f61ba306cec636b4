using ControlPlane.Grains.Monitoring;
using ControlPlane.Migrations.Parity;

namespace ControlPlane.Grains.Parity;

/// <summary>
/// The drift check's judgement and what it tells the alert engine, pure. A tenant schema is compared as A with the
/// template as B, so the differences read as what the tenant lacks (Added) or has beyond the template (Removed), and
/// the reconcile script turns the tenant into the template.
/// </summary>
public static class ParityDrift
{
    public static SchemaDriftResult Compare(string schema, SchemaSnapshot tenant, SchemaSnapshot template, int summaryLines)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(template);
        var differences = SchemaDiff.Compare(WithoutOwnRoleGrants(tenant), WithoutOwnRoleGrants(template));
        return new SchemaDriftResult(schema, differences.Count, [.. differences.Take(summaryLines).Select(d => d.ToString())], "");
    }

    /// <summary>
    /// The snapshot without the privileges granted to the role named like its schema: a tenant's role is granted its
    /// own schema by design (docs/tenants.md), so two tenants, or a tenant and its template, always differ there. A
    /// whole-database snapshot is returned as it is.
    /// </summary>
    public static SchemaSnapshot WithoutOwnRoleGrants(SchemaSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (!snapshot.IsSchemaScope || !snapshot.Objects.Any(o => o is GrantObject g && g.Grantee == snapshot.Scope)) return snapshot;
        return SchemaSnapshot.Create(snapshot.Scope, snapshot.Objects.Where(o => o is not GrantObject g || g.Grantee != snapshot.Scope));
    }

    /// <summary>
    /// One reading per compared schema (its differences, 0 when it matches), and 0 for every label set alerted before
    /// whose schema this check no longer lists (erased tenant, template gone), so its alert resolves. A check that could
    /// not run reports nothing: the alerts stand until a check says otherwise. Returns the label sets now breached.
    /// </summary>
    public static (IReadOnlyList<MetricObservation> Readings, List<Dictionary<string, string>> Breached) Readings(
        TierDriftReport report, IReadOnlyList<Dictionary<string, string>> alerted, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(alerted);
        if (report.Error.Length > 0) return ([], [.. alerted]);
        var readings = new List<MetricObservation>();
        var breached = new List<Dictionary<string, string>>();
        var compared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var schema in report.Schemas.Where(s => s.Error.Length == 0))
        {
            var labels = Labels(report.Tier, schema.Schema);
            compared.Add(schema.Schema);
            readings.Add(new MetricObservation(MonitoringMetrics.SchemaDriftDifferences, labels, schema.Differences, now));
            if (schema.Differences > 0) breached.Add(labels);
        }
        foreach (var old in alerted)
        {
            var schema = old.TryGetValue("schema", out var s) ? s : "";
            if (compared.Contains(schema)) continue;
            // A schema that could not be read this time keeps its alert; one no longer listed is resolved.
            if (report.Schemas.Any(r => r.Schema == schema)) breached.Add(old);
            else readings.Add(new MetricObservation(MonitoringMetrics.SchemaDriftDifferences, old, 0, now));
        }
        return (readings, breached);
    }

    public static Dictionary<string, string> Labels(string tier, string schema) =>
        new(StringComparer.Ordinal) { ["tier"] = tier, ["schema"] = schema };
}
