using System.Reflection;
using ControlPlane.Silo.Catalog;
using Orleans;
using Xunit;

namespace ControlPlane.Tests.Catalog;

/// <summary>
/// Every type reachable from a catalog state must be safe for Orleans' version-tolerant encoding: our types carry
/// [GenerateSerializer] and [Alias], and every stored member an [Id] (a member without one is silently not stored).
/// Walks the grains assembly, so a member or type added later is checked without touching this test.
/// </summary>
public sealed class GrainStateAuditTests
{
    private static readonly HashSet<Type> Values =
    [
        typeof(string), typeof(bool), typeof(byte), typeof(short), typeof(int), typeof(long), typeof(uint), typeof(ulong),
        typeof(float), typeof(double), typeof(decimal), typeof(Guid), typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan),
    ];

    private static readonly HashSet<Type> Collections =
    [
        typeof(List<>), typeof(HashSet<>), typeof(Dictionary<,>), typeof(IReadOnlyList<>), typeof(IReadOnlyCollection<>),
        typeof(IReadOnlyDictionary<,>), typeof(Nullable<>), typeof(IEnumerable<>),
    ];

    [Fact]
    public void Every_type_reachable_from_a_catalog_state_is_generated_aliased_and_every_member_has_an_id()
    {
        var problems = new List<string>();
        var seen = new HashSet<Type>();
        foreach (var state in GrainStateTypes.Discover().Values) Walk(state, state.Name, seen, problems);
        Assert.True(problems.Count == 0, "grain state types not safe for Orleans' encoding:\n" + string.Join("\n", problems));
        Assert.Contains(typeof(ControlPlane.Grains.Health.TierState), seen);
    }

    [Fact]
    public void Aliases_of_state_types_are_unique()
    {
        var seen = new HashSet<Type>();
        foreach (var state in GrainStateTypes.Discover().Values) Walk(state, state.Name, seen, []);
        var duplicates = seen.Select(t => (Type: t, Alias: t.GetCustomAttribute<AliasAttribute>()?.Alias))
            .Where(x => x.Alias is not null).GroupBy(x => x.Alias).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => x.Type.FullName))}").ToList();
        Assert.Empty(duplicates);
    }

    private static void Walk(Type type, string path, HashSet<Type> seen, List<string> problems)
    {
        if (Values.Contains(type)) return;
        if (type.IsArray)
        {
            Walk(type.GetElementType()!, path + "[]", seen, problems);
            return;
        }
        if (type.IsGenericType && !IsOurs(type))
        {
            if (!Collections.Contains(type.GetGenericTypeDefinition())) problems.Add($"{path}: {type} is not a collection Orleans' encoding is known to keep");
            foreach (var arg in type.GetGenericArguments()) Walk(arg, path + "<>", seen, problems);
            return;
        }
        if (!IsOurs(type))
        {
            problems.Add($"{path}: {type.FullName} is neither ours nor an allowed BCL value");
            return;
        }
        if (!seen.Add(type)) return;
        if (type.GetCustomAttribute<GenerateSerializerAttribute>() is null) problems.Add($"{path}: {type.FullName} lacks [GenerateSerializer]");
        if (type.GetCustomAttribute<AliasAttribute>() is null) problems.Add($"{path}: {type.FullName} lacks [Alias]");
        if (type.IsEnum) return;
        if (type.IsAbstract || type.IsInterface) problems.Add($"{path}: {type.FullName} is abstract; store concrete types");

        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.GetCustomAttribute<NonSerializedAttribute>() is not null) continue;
                var member = BackedProperty(t, field);
                var hasId = field.GetCustomAttribute<IdAttribute>() is not null || member?.GetCustomAttribute<IdAttribute>() is not null;
                var name = member?.Name ?? field.Name;
                if (!hasId && field.Name == "EqualityContract") continue;
                if (!hasId) problems.Add($"{path}.{name}: {t.FullName}.{name} has no [Id]");
                Walk(field.FieldType, $"{path}.{name}", seen, problems);
            }
        }
    }

    private static PropertyInfo? BackedProperty(Type type, FieldInfo field)
    {
        if (!field.Name.StartsWith('<') || !field.Name.EndsWith(">k__BackingField", StringComparison.Ordinal)) return null;
        var name = field.Name[1..field.Name.IndexOf('>', StringComparison.Ordinal)];
        return type.GetProperty(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly);
    }

    private static bool IsOurs(Type type) => type.Assembly.GetName().Name?.StartsWith("ControlPlane.", StringComparison.Ordinal) == true;
}
