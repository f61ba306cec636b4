using System.Text.Json;
using ControlPlane.Grains.Health;
using ControlPlane.Silo.Catalog;
using Xunit;

namespace ControlPlane.Tests.Catalog;

/// <summary>Every catalog state type, fully populated, survives Orleans' encoding member for member.</summary>
public sealed class GrainStateSerializerTests
{
    public static TheoryData<string> StateNames() => [.. GrainStateTypes.Discover().Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(StateNames))]
    public void A_fully_populated_state_round_trips_through_the_orleans_encoding(string state)
    {
        var type = GrainStateTypes.Discover()[state];
        var original = new StatePopulator().Create(type);
        var serializer = StateSerializers.Current;

        var payload = serializer.Serialize(type, original);
        var back = Deserialize(serializer, type, payload);

        Assert.False(GrainStateSerializer.IsLegacy(payload), $"{state}: the new encoding must never look like the old JSON");
        Assert.DoesNotContain("null", Canonical(original), StringComparison.Ordinal);
        Assert.DoesNotContain("[]", Canonical(original), StringComparison.Ordinal);
        Assert.Equal(Canonical(original), Canonical(back));
    }

    /// <summary>
    /// Our types are never named by their .NET name (a value stored under a declared type needs no name; one that has
    /// to be named is named by its [Alias]), so renaming a class or a namespace keeps stored state readable. A BCL
    /// collection behind an interface-typed member is named by its BCL name, which does not change.
    /// </summary>
    [Theory]
    [MemberData(nameof(StateNames))]
    public void The_new_encoding_names_none_of_our_types_by_its_dotnet_name(string state)
    {
        var type = GrainStateTypes.Discover()[state];
        var payload = StateSerializers.Current.Serialize(type, new StatePopulator().Create(type));
        var text = System.Text.Encoding.Latin1.GetString(payload);
        Assert.DoesNotContain("ControlPlane", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_state_name_of_the_catalog_storage_is_discovered()
    {
        var names = GrainStateTypes.Discover();
        Assert.Equal(["alerts", "backups", "capacity", "change", "changeledger", "consistency", "fleet", "hardening", "parity", "parity-history", "piicatalog", "pool", "replica", "sla", "tenant", "tenantaudit", "tenants", "tier", "upgrades", "verify"], names.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(typeof(TierState), names["tier"]);
    }

    internal static object Deserialize(GrainStateSerializer serializer, Type type, byte[] payload) =>
        typeof(GrainStateSerializerTests).GetMethod(nameof(DeserializeAs), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(type).Invoke(null, [serializer, payload])!;

    private static T DeserializeAs<T>(GrainStateSerializer serializer, byte[] payload) => serializer.Deserialize<T>(new BinaryData(payload));

    /// <summary>Every public member, as JSON: two states print the same only if every member reads back equal.</summary>
    internal static string Canonical(object value) => JsonSerializer.Serialize(value, value.GetType(), CanonicalOptions);

    private static readonly JsonSerializerOptions CanonicalOptions = new() { WriteIndented = true };
}
