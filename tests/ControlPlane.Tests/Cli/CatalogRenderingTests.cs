using ControlPlane.Cli.Catalog;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class CatalogRenderingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static GetCatalogStatusResponse Status(bool reachable, bool crashLoop = false) => new()
    {
        Reachable = reachable,
        Since = Timestamp.FromDateTimeOffset(Now.AddSeconds(-42)),
        LastError = reachable ? "" : "no answer within 2 s (connect and SELECT 1)",
        Embedded = true,
        Endpoint = "embedded, 127.0.0.1:5433 database controlplane",
        Restarts = 2,
        CrashLoop = crashLoop,
        RecentCrashes = crashLoop ? 3 : 0,
        CachedTokens = 4,
        TokenListenerConnected = reachable,
        Silo = "S127.0.0.1:11111:1",
    };

    [Fact]
    public void A_reachable_catalog_gives_status_no_alert()
    {
        Assert.Null(CatalogRendering.Alert(Status(reachable: true), Now));
        var text = CatalogRendering.Status(Status(reachable: true), Now);
        Assert.Contains("catalog      : reachable since 2026-12-06 11:59:18Z (42 s ago)", text, StringComparison.Ordinal);
        Assert.Contains("token cache  : 4 token(s), invalidation listener connected", text, StringComparison.Ordinal);
        Assert.DoesNotContain("REFUSED", text, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_catalog_is_an_alert_with_its_start_and_error()
    {
        var alert = CatalogRendering.Alert(Status(reachable: false), Now);
        Assert.Equal(
            "ALERT catalog unreachable since 2026-12-06 11:59:18Z (42 s ago): commands are refused; queries and watches answer from memory. Last error: no answer within 2 s (connect and SELECT 1)",
            alert);
        Assert.Contains("commands     : REFUSED", CatalogRendering.Status(Status(reachable: false), Now), StringComparison.Ordinal);
    }

    [Fact]
    public void A_crash_loop_is_an_alert_even_while_reachable()
    {
        Assert.StartsWith("ALERT catalog crash loop", CatalogRendering.Alert(Status(reachable: true, crashLoop: true), Now), StringComparison.Ordinal);
        Assert.Contains("ALERT        : the embedded catalog is crash-looping", CatalogRendering.Status(Status(true, true), Now), StringComparison.Ordinal);
    }

    [Fact]
    public void A_degraded_catalog_standby_is_an_alert_with_its_reason_and_the_primary_silos_observation()
    {
        var status = Status(reachable: true);
        status.Replication = new CatalogReplication
        {
            Primary = "catalog", Standby = "catalog-standby", Promotions = 0,
            DegradedSince = Timestamp.FromDateTimeOffset(Now.AddSeconds(-30)), DegradedReason = "the catalog standby has not streamed for 5 s (limit 5 s)",
            Observed = true, StandbyState = "", WaitsForStandby = false, Finding = "degraded since 2026-12-06 11:59:30Z: the catalog standby does not stream",
        };
        Assert.Equal(
            "ALERT catalog standby may lack acknowledged writes since 2026-12-06 11:59:30Z (the catalog standby has not streamed for 5 s (limit 5 s)): it is not promoted; see 'cpctl catalog status'.",
            CatalogRendering.Alert(status, Now));
        var text = CatalogRendering.Status(status, Now);
        Assert.Contains("ha           : primary catalog, standby catalog-standby (synchronous, DEGRADED); 0 promotion(s)", text, StringComparison.Ordinal);
        Assert.Contains("standby      : NOT streaming; commits do not wait for it;", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_synchronous_catalog_standby_is_one_line_and_no_alert()
    {
        var status = Status(reachable: true);
        status.Replication = new CatalogReplication { Primary = "catalog-standby", Standby = "catalog", Promotions = 1 };
        Assert.Null(CatalogRendering.Alert(status, Now));
        Assert.Contains("ha           : primary catalog-standby, standby catalog (synchronous); 1 promotion(s)", CatalogRendering.Status(status, Now), StringComparison.Ordinal);
    }
}
