using ControlPlane.Postgres.Fleet;
using Xunit;

namespace ControlPlane.Tests.Postgres;

public sealed class FleetManifestTests
{
    private static FleetManifest Sample() => FleetManifest.Empty
        .With("oltp", new TierManifest("oltp-2", new Dictionary<string, int> { ["oltp-1"] = 40001, ["oltp-2"] = 40002 }))
        .With("queue", new TierManifest("queue-1", new Dictionary<string, int> { ["queue-1"] = 40003 }));

    [Fact]
    public void Manifest_round_trips_ports_and_primary_through_json()
    {
        var parsed = FleetManifest.Parse(Sample().ToJson());

        Assert.Equal(40002, parsed.PortOf("oltp", "oltp-2"));
        Assert.Equal("oltp-2", parsed.Tiers["oltp"].Primary);
        Assert.Equal(40003, parsed.PortOf("queue", "queue-1"));
    }

    [Fact]
    public void Unknown_replica_or_tier_has_no_remembered_port()
    {
        Assert.Null(Sample().PortOf("oltp", "oltp-3"));
        Assert.Null(Sample().PortOf("olap", "olap-1"));
    }

    [Fact]
    public void With_replaces_one_tier_and_keeps_the_others()
    {
        var next = Sample().With("oltp", new TierManifest("oltp-1", new Dictionary<string, int> { ["oltp-1"] = 1 }));
        Assert.Equal("oltp-1", next.Tiers["oltp"].Primary);
        Assert.Equal(40003, next.PortOf("queue", "queue-1"));
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""{"version":1}""", "'tiers'")]
    [InlineData("""{"version":7,"tiers":{}}""", "version is 7")]
    [InlineData("""{"version":1,"tiers":{"oltp":{"primary":"oltp-1","ports":{"oltp-1":70000}}}}""", "70000")]
    [InlineData("""{"version":1,"tiers":{"oltp":{"ports":{}}}}""", "'oltp'")]
    public void Parse_names_what_is_wrong(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => FleetManifest.Parse(json));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_manifest_loads_as_empty() =>
        Assert.Empty(FleetManifest.Load(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "manifest.json")).Tiers);

    [Fact]
    public void Standby_slot_names_are_valid_postgres_slot_names() =>
        Assert.Equal("content_2", LocalFleetOptions.SlotName("content-2"));

    [Fact]
    public void Default_fleet_has_the_four_tiers_each_with_a_primary_and_one_standby()
    {
        var options = new LocalFleetOptions("/data");
        Assert.Equal(["oltp", "content", "queue", "olap"], options.Tiers);
        Assert.Equal(["olap-1", "olap-2"], options.ReplicaNames("olap"));
        Assert.Equal("/data/fleet/olap/olap-2/data", options.ReplicaDataDirectory("olap", "olap-2"));
    }
}
