using ControlPlane.Postgres.Fleet;
using ControlPlane.Silo.Catalog;
using Xunit;

namespace ControlPlane.Tests.Catalog;

public sealed class CatalogBackupPolicyTests
{
    private const string First = CatalogInstance.PrimaryName;
    private const string Standby = CatalogStandby.Name;
    private static readonly CatalogMember StandbyMember = new(Standby, "127.0.0.1", 5433, "/b/catalog-standby/data");
    private static readonly CatalogManifest Initial = new(5432, [StandbyMember]);
    private static readonly CatalogManifest Promoted = Initial with { Primary = Standby, Promotions = 1 };

    private static CatalogBackupDuty Decide(CatalogManifest? manifest, params string[] local) =>
        CatalogBackupPolicy.Decide(new CatalogBackupView(true, true, local, manifest, "/a/catalog/data", manifest is null ? "unexpected end of JSON" : null));

    [Fact]
    public void The_silo_of_the_first_instance_backs_up_until_a_promotion()
    {
        Assert.Equal(First, Decide(Initial, First).Instance);
        Assert.False(Decide(Initial, Standby).BacksUp);
    }

    [Fact]
    public void After_a_promotion_the_standbys_silo_backs_up_and_the_old_primarys_silo_stands_down()
    {
        Assert.Equal(Standby, Decide(Promoted, Standby).Instance);
        var old = Decide(Promoted, First);
        Assert.Null(old.Instance);
        Assert.Equal("catalog backups run on the silo that runs the catalog primary 'catalog-standby' (127.0.0.1:5433, data directory /b/catalog-standby/data); "
            + "this silo runs catalog, not the primary", old.DisabledReason);
    }

    [Fact]
    public void A_silo_running_both_instances_backs_up_whichever_is_primary()
    {
        Assert.Equal(First, Decide(Initial, First, Standby).Instance);
        Assert.Equal(Standby, Decide(Promoted, First, Standby).Instance);
    }

    [Fact]
    public void A_silo_running_no_instance_names_where_backups_run()
    {
        Assert.Equal("catalog backups run on the silo that runs the catalog primary 'catalog' (127.0.0.1:5432, data directory /a/catalog/data); this silo runs no catalog instance",
            Decide(Initial).DisabledReason);
    }

    [Fact]
    public void An_external_catalog_or_disabled_backups_back_up_nothing()
    {
        Assert.Equal("this silo runs no embedded catalog (an external catalog is backed up by whoever runs it)",
            CatalogBackupPolicy.Decide(new CatalogBackupView(true, false, [], null, "")).DisabledReason);
        Assert.Equal("ControlPlane:Catalog:Backups:Enabled is false",
            CatalogBackupPolicy.Decide(new CatalogBackupView(false, true, [First], Initial, "/a/catalog/data")).DisabledReason);
    }

    [Fact]
    public void An_unreadable_manifest_backs_up_nothing_and_says_why()
    {
        var duty = Decide(null, First);
        Assert.False(duty.BacksUp);
        Assert.Equal("the catalog's manifest cannot be read (unexpected end of JSON), so this silo cannot tell which instance is primary", duty.DisabledReason);
    }
}
