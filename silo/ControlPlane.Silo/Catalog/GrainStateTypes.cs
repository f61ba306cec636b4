using System.Reflection;
using ControlPlane.Grains.Fleet;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// Which state type each state name of the "catalog" storage holds, found from the grains'
/// <c>[PersistentState(name, "catalog")] IPersistentState&lt;T&gt;</c> constructor parameters. The start-up rewrite
/// needs it (a row holds the state name, not a type), and the serializer audit test walks from it.
/// </summary>
public static class GrainStateTypes
{
    /// <summary>State name to state type, for every grain in the grains assembly that persists to the catalog.</summary>
    /// <exception cref="InvalidOperationException">Two grains use one state name for different types (they would share rows).</exception>
    public static IReadOnlyDictionary<string, Type> Discover() => Discover(typeof(FleetKeys).Assembly, FleetKeys.Storage);

    /// <summary>State name to state type for <paramref name="storage"/> in <paramref name="grains"/>.</summary>
    public static IReadOnlyDictionary<string, Type> Discover(Assembly grains, string storage)
    {
        ArgumentNullException.ThrowIfNull(grains);
        var map = new Dictionary<string, Type>(StringComparer.Ordinal);
        var parameters = grains.GetTypes()
            .Where(t => t.IsClass && typeof(Grain).IsAssignableFrom(t))
            .SelectMany(t => t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance))
            .SelectMany(c => c.GetParameters());
        foreach (var parameter in parameters)
        {
            var attribute = parameter.GetCustomAttribute<PersistentStateAttribute>();
            if (attribute is null || attribute.StorageName != storage) continue;
            if (!parameter.ParameterType.IsGenericType || parameter.ParameterType.GetGenericTypeDefinition() != typeof(IPersistentState<>)) continue;
            var type = parameter.ParameterType.GetGenericArguments()[0];
            if (map.TryGetValue(attribute.StateName, out var existing) && existing != type)
            {
                throw new InvalidOperationException(
                    $"state name '{attribute.StateName}' of storage '{storage}' holds both {existing.FullName} and {type.FullName}; each state name must hold one type.");
            }
            map[attribute.StateName] = type;
        }
        return map;
    }
}
