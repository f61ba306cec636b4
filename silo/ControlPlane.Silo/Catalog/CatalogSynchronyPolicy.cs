namespace ControlPlane.Silo.Catalog;

/// <summary>What the catalog primary's silo sees of its standby at one check.</summary>
/// <param name="Asynchronous">The standby was added asynchronous: commits never wait for it, nothing to keep.</param>
/// <param name="Strict">Commits keep waiting for a lost standby (<c>ControlPlane:Catalog:SynchronousStrict</c>).</param>
/// <param name="NamesSet">The primary's <c>synchronous_standby_names</c> is not empty: its commits wait for the standby.</param>
/// <param name="PeerState">The standby's <c>sync_state</c> while it streams (<c>sync</c>, <c>quorum</c>, <c>async</c>…), null while it does not.</param>
/// <param name="PeerCaughtUp">The standby flushed everything the primary had written when it became synchronous again.</param>
/// <param name="PeerAwaySince">Since when this silo has seen the standby not streaming; null while it streams.</param>
/// <param name="DegradedSince">The manifest's <see cref="ControlPlane.Postgres.Fleet.CatalogManifest.SynchronousDegradedSince"/>.</param>
internal sealed record CatalogSynchronyView(
    bool Asynchronous, bool Strict, bool NamesSet, string? PeerState, bool PeerCaughtUp, DateTimeOffset? PeerAwaySince,
    DateTimeOffset Now, TimeSpan DegradeAfter, DateTimeOffset? DegradedSince);

internal enum CatalogSynchronyAction
{
    /// <summary>Nothing to do.</summary>
    Keep,

    /// <summary>Persist that the standby may lack acknowledged writes, then stop making commits wait for it.</summary>
    Degrade,

    /// <summary>The standby streams again: make commits wait for it again (the manifest still says degraded).</summary>
    Resynchronize,

    /// <summary>The standby is synchronous and caught up: clear the manifest's degraded mark (it may be promoted again).</summary>
    ConfirmSynchronous,
}

internal sealed record CatalogSynchronyVerdict(CatalogSynchronyAction Action, string Reason);

/// <summary>
/// Keeps the catalog available when its synchronous standby is lost, pure. With a synchronous standby every catalog
/// commit waits for it, so losing the standby's host would stop every command, every decision and Orleans' own
/// membership writes: one host whose loss stops failover. After <c>DegradeAfter</c> without the standby streaming the
/// primary commits without it, and the manifest says so first, because from then on the standby may lack acknowledged
/// writes and must not be promoted (<see cref="CatalogPromotionPolicy"/>). The mark is cleared only once the standby
/// streams synchronously again and has flushed everything written before that: its promotion loses nothing again.
/// <c>Strict</c> keeps commits waiting instead (no write is ever acknowledged without the standby).
/// </summary>
internal static class CatalogSynchronyPolicy
{
    public static CatalogSynchronyVerdict Decide(CatalogSynchronyView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (view.Asynchronous) return new(CatalogSynchronyAction.Keep, "the catalog standby is asynchronous by configuration");
        if (view.PeerState is null)
        {
            if (!view.NamesSet)
            {
                return view.DegradedSince is { } since
                    ? new(CatalogSynchronyAction.Keep, $"degraded since {since:u}: the catalog standby does not stream")
                    : new(CatalogSynchronyAction.Degrade, "the primary does not wait for the catalog standby, which does not stream");
            }
            if (view.Strict) return new(CatalogSynchronyAction.Keep, "the catalog standby does not stream; commits wait for it (strict)");
            var away = view.Now - (view.PeerAwaySince ?? view.Now);
            return away >= view.DegradeAfter
                ? new(CatalogSynchronyAction.Degrade, $"the catalog standby has not streamed for {away.TotalSeconds:0.#} s (limit {view.DegradeAfter.TotalSeconds:0.#} s)")
                : new(CatalogSynchronyAction.Keep, $"the catalog standby has not streamed for {away.TotalSeconds:0.#} s; commits wait for it up to {view.DegradeAfter.TotalSeconds:0.#} s");
        }
        if (!view.NamesSet) return new(CatalogSynchronyAction.Resynchronize, $"the catalog standby streams again ({view.PeerState})");
        if (view.DegradedSince is null) return new(CatalogSynchronyAction.Keep, $"synchronous ({view.PeerState})");
        if (view.PeerState is not ("sync" or "quorum"))
            return new(CatalogSynchronyAction.Keep, $"degraded since {view.DegradedSince:u}: the catalog standby streams but is not synchronous yet ({view.PeerState})");
        return view.PeerCaughtUp
            ? new(CatalogSynchronyAction.ConfirmSynchronous, $"the catalog standby is synchronous ({view.PeerState}) and caught up")
            : new(CatalogSynchronyAction.Keep, $"degraded since {view.DegradedSince:u}: the catalog standby is synchronous and catching up");
    }
}
