namespace ControlPlane.Silo.Catalog;

/// <param name="LastKnownActive">Silos Active in this silo's last membership snapshot. While the catalog is down the
/// membership table cannot change, so a silo lost with the catalog's host stays in it: it counts towards the majority
/// needed, and cannot vote.</param>
/// <param name="Answers">The silos that answered this round (this one included) and whether each reaches the catalog.</param>
/// <param name="StandbyRunsInRecovery">The standby this silo runs answers and is still in recovery.</param>
/// <param name="PersistedPrimary">The instance the catalog manifest names as the one that may be primary.</param>
/// <param name="DegradedSince">The manifest's mark that the standby may lack acknowledged writes (<see cref="CatalogSynchronyPolicy"/>).</param>
internal sealed record CatalogPromotionView(
    IReadOnlyCollection<string> LastKnownActive, IReadOnlyDictionary<string, bool> Answers, bool StandbyRunsInRecovery,
    string PersistedPrimary, string Standby, DateTimeOffset? DegradedSince = null, string? DegradedReason = null);

internal enum CatalogPromotionAction { None, Wait, Promote }

internal sealed record CatalogPromotionVerdict(CatalogPromotionAction Action, string Reason, int Agreeing, int Needed);

/// <summary>
/// When the catalog standby is promoted, pure. A strict majority of the last known active silos must each find the
/// catalog unreachable on their own; a single answering silo that still reaches it stops the promotion (the primary
/// lives: a partition or a slow check, not a loss). Silos that do not answer are not counted as agreeing, so a
/// minority cut off from the rest never promotes. Nothing happens once the manifest names the standby as primary, nor
/// while the manifest says the standby may lack acknowledged writes: a promotion then would lose them, so the catalog
/// waits for its primary (docs/catalog.md, "When the standby is lost").
/// </summary>
internal static class CatalogPromotionPolicy
{
    public static CatalogPromotionVerdict Decide(CatalogPromotionView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var needed = view.LastKnownActive.Count / 2 + 1;
        if (view.PersistedPrimary == view.Standby)
            return new(CatalogPromotionAction.None, $"{view.Standby} is already the catalog primary", 0, needed);
        if (!view.StandbyRunsInRecovery)
            return new(CatalogPromotionAction.None, $"{view.Standby} is not a running standby", 0, needed);
        if (view.DegradedSince is { } since)
        {
            return new(CatalogPromotionAction.None,
                $"{view.Standby} may lack acknowledged writes: the catalog's synchronous replication is degraded since {since:u} ({view.DegradedReason ?? "no reason recorded"}); it is not promoted", 0, needed);
        }
        var voters = view.Answers.Where(a => view.LastKnownActive.Contains(a.Key)).ToList();
        if (voters.FirstOrDefault(a => a.Value) is { Key: { } reaching })
            return new(CatalogPromotionAction.Wait, $"silo {reaching} still reaches the catalog primary", 0, needed);
        var agreeing = voters.Count;
        return agreeing >= needed
            ? new(CatalogPromotionAction.Promote, $"{agreeing} of {view.LastKnownActive.Count} last known active silos find the catalog primary unreachable", agreeing, needed)
            : new(CatalogPromotionAction.Wait, $"{agreeing} of {view.LastKnownActive.Count} silos agree the catalog primary is unreachable; {needed} needed", agreeing, needed);
    }
}
