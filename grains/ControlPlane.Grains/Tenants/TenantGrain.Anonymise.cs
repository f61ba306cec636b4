using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Tenants;

public sealed partial class TenantGrain
{
    /// <summary>
    /// Replaces the tenant's rows in <paramref name="columns"/> (declared personal-data columns) with pseudonyms on each
    /// tier it is placed on. An operation like the others: persisted with its columns before the first tier, one step per
    /// tier (a transaction journalled on the tier, so a repeat after a crash does not pseudonymise twice), sealed and
    /// audited by Finish.
    /// </summary>
    public async Task<TenantView> Anonymise(IReadOnlyList<PiiColumn> columns, string principal)
    {
        ArgumentNullException.ThrowIfNull(columns);
        RequireExists();
        if (S.Operation is { Done: false, Command: TenantCommand.Anonymise })
        {
            await RunAsync();
            return View();
        }
        var placed = columns.Where(c => S.Placements.Any(p => p.Tier == c.Tier)).ToList();
        var tiers = S.Placements.Select(p => p.Tier).Where(t => placed.Any(c => c.Tier == t)).ToList();
        var decision = Decide(TenantCommand.Anonymise, tiers, S.Plans.Select(p => p.Tier).ToList());
        Require(decision);
        if (placed.Count == 0)
        {
            throw new TenantRefusedException(
                $"tenant '{_name}' has no declared personal-data column on its tiers ({string.Join(", ", S.Placements.Select(p => p.Tier))}); declare them first (cpctl tenant pii declare).");
        }
        S.AnonymiseColumns = placed;
        S.AnonymisedTiers = [];
        return await StartAsync(TenantCommand.Anonymise, decision, principal, $"{placed.Count} declared column(s)");
    }

    private async Task AnonymiseTierAsync(TenantOperation op, string tier, CancellationToken ct)
    {
        var placement = Placement(tier);
        var primary = await PrimaryAsync(tier);
        var targets = S.AnonymiseColumns.Where(c => c.Tier == tier).Select(c => new PiiTarget(c.Table, c.Column, c.Kind)).ToList();
        var result = await new TenantAnonymiser(logger).AnonymiseAsync(primary, _name, placement.Kind == PlacementKind.Shared, op.Id, targets,
            await pseudonymKey.LoadAsync(ct), ct);
        S.AnonymisedTiers.RemoveAll(t => t.Tier == tier);
        S.AnonymisedTiers.Add(new TierAnonymiseReport(tier, primary.Name,
            result.Columns.Select(c => new AnonymisedColumn(c.Table, c.Column, c.Kind, c.Rows, c.Updated, c.Values, c.OriginalsRemaining, c.Note)).ToList()));
        Remember($"anonymised on {tier}: {result.Columns.Sum(c => c.Updated)} row value(s) in {result.Columns.Count(c => c.Note.Length == 0)} column(s), {result.OriginalsRemaining} original(s) remaining", op.Principal);
    }

    private void SealAnonymise(TenantOperation op)
    {
        S.AnonymiseReport = TenantEraseReports.SealAnonymise(_name, op.Id, DateTimeOffset.UtcNow, S.AnonymisedTiers);
        var verified = S.AnonymiseReport.Verified;
        Audit("anonymise", verified ? AuditOutcome.Ok : AuditOutcome.Failed,
            $"anonymise {op.Id} of tenant {_name}: {S.AnonymiseColumns.Count} declared column(s), {(verified ? "verified" : "NOT verified")}, digest {S.AnonymiseReport.Digest}",
            op.Id, op.Principal);
    }
}
