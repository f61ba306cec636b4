using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Pools;
using ControlPlane.Silo.Catalog;
using Xunit;

namespace ControlPlane.Tests.Catalog;

/// <summary>
/// Rows of orleans_grain_state written by the previous release (Newtonsoft JSON with $type names), captured from a
/// real silo (Fixtures/legacy-grain-state.json: one tier after a switchover, a backup, tenants with leases), read
/// with the new serializer into the same values; and the reader names none but our own types.
/// </summary>
public sealed class LegacyGrainStateTests
{
    internal sealed record FixtureRow(string State, string? Extension, int Version, string Payload);

    internal static IReadOnlyList<FixtureRow> Rows()
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Catalog", "Fixtures", "legacy-grain-state.json")))!;
        return [.. root["rows"]!.AsArray().Select(r => new FixtureRow(
            (string)r!["state"]!, (string?)r["extension"], (int)r["version"]!, (string)r["payload"]!))];
    }

    public static TheoryData<string, string?> RowKeys()
    {
        var data = new TheoryData<string, string?>();
        foreach (var row in Rows()) data.Add(row.State, row.Extension);
        return data;
    }

    private static T Read<T>(string state) =>
        StateSerializers.Current.Deserialize<T>(new BinaryData(Encoding.UTF8.GetBytes(Rows().First(r => r.State == state).Payload)));

    [Theory]
    [MemberData(nameof(RowKeys))]
    public void A_row_of_the_previous_release_reads_into_the_values_it_holds(string state, string? extension)
    {
        var row = Rows().Single(r => r.State == state && r.Extension == extension);
        var type = GrainStateTypes.Discover()[state];
        var payload = Encoding.UTF8.GetBytes(row.Payload);
        Assert.True(GrainStateSerializer.IsLegacy(payload));

        var value = GrainStateSerializerTests.Deserialize(StateSerializers.Current, type, payload);

        var expected = LegacyJson.Normalise(JsonNode.Parse(row.Payload)!);
        var actual = JsonNode.Parse(GrainStateSerializerTests.Canonical(value))!;
        var mismatches = new List<string>();
        LegacyJson.Contains(expected, actual, "$", mismatches);
        Assert.True(mismatches.Count == 0, $"{state} {extension}: " + string.Join("\n", mismatches));
    }

    [Theory]
    [MemberData(nameof(RowKeys))]
    public void A_row_of_the_previous_release_rewritten_in_the_new_encoding_keeps_its_values(string state, string? extension)
    {
        var row = Rows().Single(r => r.State == state && r.Extension == extension);
        var type = GrainStateTypes.Discover()[state];
        var serializer = StateSerializers.Current;
        var old = GrainStateSerializerTests.Deserialize(serializer, type, Encoding.UTF8.GetBytes(row.Payload));

        var rewritten = serializer.Serialize(type, old);

        Assert.False(GrainStateSerializer.IsLegacy(rewritten));
        Assert.Equal(GrainStateSerializerTests.Canonical(old), GrainStateSerializerTests.Canonical(GrainStateSerializerTests.Deserialize(serializer, type, rewritten)));
    }

    [Fact]
    public void The_tier_keeps_its_term_primary_decisions_and_operations()
    {
        var tier = Read<TierState>("tier");
        Assert.Equal(2, tier.Term);
        Assert.Equal("oltp-2", tier.Primary);
        Assert.Equal(["oltp-1", "oltp-2"], tier.Spec!.Replicas.Select(r => r.Name));
        Assert.NotEmpty(tier.Decisions);
        Assert.Contains(tier.Operations, o => o.Kind == ControlPlane.Grains.Failover.OperationKind.Switchover);
        Assert.Equal("oltp-2", tier.Snapshot!.Primary);
    }

    [Fact]
    public void The_backups_keep_their_records_policy_and_lists()
    {
        var backups = Read<TierBackupsState>("backups");
        var backup = Assert.Single(backups.Backups);
        Assert.Equal("20261206T110116Z-1", backup.Id);
        Assert.Equal(BackupState.Succeeded, backup.State);
        Assert.True(backup.Verified);
        Assert.Equal(2, backup.Repositories.Count);
        Assert.Equal("public.chaos_writes", Assert.Single(backup.Counts).Table);
        Assert.Equal(TimeSpan.FromDays(7), backups.Policy!.RecoveryWindow);
    }

    [Fact]
    public void The_pool_tenants_and_replicas_keep_their_leases_plans_and_terms()
    {
        var pool = Read<PoolState>("pool");
        Assert.Equal(["oltp.initrode.1", "oltp.umbrella.2"], pool.Leases.Select(l => l.Id));
        Assert.Equal(TimeSpan.FromMinutes(10), pool.Leases[0].Ttl);
        var tenants = Read<TenantRegistryState>("tenants");
        Assert.Equal(8, tenants.Tenants["initrode"].Plans.Single().Max);
        Assert.Equal(2, Read<ReplicaState>("replica").HighestTerm);
    }

    [Theory]
    [InlineData("System.Diagnostics.Process, System.Diagnostics.Process")]
    [InlineData("System.IO.FileInfo, System.Private.CoreLib")]
    [InlineData("Evil.Gadget, Evil.Assembly")]
    [InlineData("System.Collections.Generic.List`1[[System.IO.FileInfo, System.Private.CoreLib]], System.Private.CoreLib")]
    public void A_row_naming_a_type_that_is_not_ours_is_refused_not_constructed(string typeName)
    {
        var json = $$$"""{"$type":"ControlPlane.Grains.Fleet.FleetState, ControlPlane.Grains","Tiers":{"$type":"{{{typeName}}}"}}""";

        var error = Assert.ThrowsAny<Newtonsoft.Json.JsonException>(() =>
            StateSerializers.Current.Deserialize<ControlPlane.Grains.Fleet.FleetState>(new BinaryData(Encoding.UTF8.GetBytes(json))));

        Assert.Contains("not one of the control plane's own types", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "Evil.Assembly");
    }

    [Fact]
    public void A_collection_expression_list_written_by_the_previous_release_reads_back()
    {
        var json = """
            {"$id":"1","$type":"ControlPlane.Grains.Fleet.FleetState, ControlPlane.Grains",
             "Tiers":{"$type":"System.Collections.Generic.List`1[[System.String, System.Private.CoreLib]], System.Private.CoreLib","$values":["oltp","queue"]}}
            """;
        var state = StateSerializers.Current.Deserialize<ControlPlane.Grains.Fleet.FleetState>(new BinaryData(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(["oltp", "queue"], state.Tiers);
    }
}
