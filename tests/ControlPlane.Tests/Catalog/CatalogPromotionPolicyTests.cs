using ControlPlane.Postgres.Fleet;
using ControlPlane.Silo.Catalog;
using Xunit;

namespace ControlPlane.Tests.Catalog;

public sealed class CatalogPromotionPolicyTests
{
    private static readonly string[] ThreeSilos = ["a", "b", "c"];

    private static CatalogPromotionView View(IReadOnlyDictionary<string, bool> answers, bool inRecovery = true, string primary = "catalog", string[]? active = null) =>
        new(active ?? ThreeSilos, answers, inRecovery, primary, "catalog-standby");

    [Fact]
    public void Two_of_three_silos_that_cannot_reach_the_catalog_promote_the_standby()
    {
        var verdict = CatalogPromotionPolicy.Decide(View(new Dictionary<string, bool> { ["a"] = false, ["b"] = false }));
        Assert.Equal(CatalogPromotionAction.Promote, verdict.Action);
        Assert.Equal(2, verdict.Agreeing);
        Assert.Equal(2, verdict.Needed);
    }

    [Fact]
    public void One_silo_alone_of_three_never_promotes_the_lost_silo_counts_but_cannot_vote()
    {
        var verdict = CatalogPromotionPolicy.Decide(View(new Dictionary<string, bool> { ["a"] = false }));
        Assert.Equal(CatalogPromotionAction.Wait, verdict.Action);
        Assert.Contains("2 needed", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_silo_that_still_reaches_the_catalog_stops_the_promotion()
    {
        var verdict = CatalogPromotionPolicy.Decide(View(new Dictionary<string, bool> { ["a"] = false, ["b"] = false, ["c"] = true }));
        Assert.Equal(CatalogPromotionAction.Wait, verdict.Action);
        Assert.Contains("silo c still reaches", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Answers_of_silos_outside_the_last_known_membership_do_not_count()
    {
        var verdict = CatalogPromotionPolicy.Decide(View(new Dictionary<string, bool> { ["a"] = false, ["x"] = false, ["y"] = false }));
        Assert.Equal(CatalogPromotionAction.Wait, verdict.Action);
        Assert.Equal(1, verdict.Agreeing);
    }

    [Fact]
    public void Two_silos_need_both_to_agree()
    {
        string[] two = ["a", "b"];
        Assert.Equal(CatalogPromotionAction.Wait, CatalogPromotionPolicy.Decide(View(new Dictionary<string, bool> { ["a"] = false }, active: two)).Action);
        Assert.Equal(CatalogPromotionAction.Promote,
            CatalogPromotionPolicy.Decide(View(new Dictionary<string, bool> { ["a"] = false, ["b"] = false }, active: two)).Action);
    }

    [Fact]
    public void One_embedded_silo_promotes_on_its_own_finding()
    {
        var verdict = CatalogPromotionPolicy.Decide(View(new Dictionary<string, bool> { ["a"] = false }, active: ["a"]));
        Assert.Equal(CatalogPromotionAction.Promote, verdict.Action);
    }

    [Fact]
    public void A_standby_that_is_not_in_recovery_or_already_primary_is_left_alone()
    {
        var all = new Dictionary<string, bool> { ["a"] = false, ["b"] = false, ["c"] = false };
        Assert.Equal(CatalogPromotionAction.None, CatalogPromotionPolicy.Decide(View(all, inRecovery: false)).Action);
        Assert.Equal(CatalogPromotionAction.None, CatalogPromotionPolicy.Decide(View(all, primary: "catalog-standby")).Action);
    }

    [Fact]
    public void An_old_primary_that_the_manifest_no_longer_names_is_rewound_into_a_standby_never_started_as_primary()
    {
        Assert.Equal(CatalogStartAction.RejoinAsStandby, CatalogFencePolicy.Decide("catalog", "catalog-standby", isStandby: false));
        Assert.Equal(CatalogStartAction.StartAsIs, CatalogFencePolicy.Decide("catalog", "catalog", isStandby: false));
        Assert.Equal(CatalogStartAction.StartAsIs, CatalogFencePolicy.Decide("catalog", "catalog-standby", isStandby: true));
    }

    [Fact]
    public void A_standby_that_may_lack_acknowledged_writes_is_never_promoted_whatever_the_majority()
    {
        var view = View(new Dictionary<string, bool> { ["a"] = false, ["b"] = false, ["c"] = false }) with
        {
            DegradedSince = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero), DegradedReason = "the catalog standby has not streamed for 5 s",
        };
        var verdict = CatalogPromotionPolicy.Decide(view);
        Assert.Equal(CatalogPromotionAction.None, verdict.Action);
        Assert.Contains("may lack acknowledged writes", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("has not streamed for 5 s", verdict.Reason, StringComparison.Ordinal);
    }
}
