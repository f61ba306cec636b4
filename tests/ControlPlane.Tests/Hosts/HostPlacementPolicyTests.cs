using ControlPlane.Grains.Hosts;
using Xunit;

namespace ControlPlane.Tests.Hosts;

public sealed class HostPlacementPolicyTests
{
    private static readonly Dictionary<string, string?> Hosts = new()
    {
        ["silo-1"] = "host-a",
        ["silo-2"] = "host-b",
        ["silo-3"] = "host-c",
        ["silo-4"] = null,
    };

    private static string Choose(string? host, IReadOnlyList<string> candidates, string local, int random = 0) =>
        HostPlacementPolicy.Choose(host, candidates, s => Hosts[s], local, random);

    [Fact]
    public void A_replica_activates_on_the_silo_of_its_host_whichever_silo_asks()
    {
        Assert.Equal("silo-2", Choose("host-b", ["silo-1", "silo-2", "silo-3"], local: "silo-1"));
        Assert.Equal("silo-2", Choose("host-b", ["silo-1", "silo-2", "silo-3"], local: "silo-3"));
    }

    [Fact]
    public void Without_a_silo_of_its_host_a_replica_activates_on_the_asking_silo()
    {
        Assert.Equal("silo-3", Choose("host-a", ["silo-2", "silo-3"], local: "silo-3"));
    }

    [Fact]
    public void Without_a_silo_of_its_host_and_an_incompatible_asker_a_replica_activates_on_any_candidate()
    {
        Assert.Equal("silo-3", Choose("host-a", ["silo-2", "silo-3"], local: "silo-1", random: 1));
    }

    [Fact]
    public void A_grain_without_a_host_is_spread_over_every_candidate()
    {
        string[] candidates = ["silo-1", "silo-2", "silo-3"];
        var chosen = Enumerable.Range(0, 6).Select(r => Choose(null, candidates, local: "silo-1", random: r)).ToHashSet();
        Assert.Equal(candidates.ToHashSet(), chosen);
        Assert.Contains(Choose(null, candidates, local: "silo-1", random: int.MinValue), candidates);
    }

    [Fact]
    public void Host_names_match_exactly()
    {
        Assert.Equal("silo-4", Choose("HOST-B", ["silo-2", "silo-4"], local: "silo-4"));
    }

    [Fact]
    public void An_empty_cluster_is_an_error_not_a_random_silo()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Choose("host-a", [], local: "silo-1"));
        Assert.Contains("no silo", ex.Message, StringComparison.Ordinal);
    }
}
