using System.Collections;
using System.Reflection;

namespace ControlPlane.Tests.Catalog;

/// <summary>
/// Builds a value of any state type with every member set to a distinct non-default value: two elements per list
/// (read-only lists made by collection expressions, as the grains make them), two entries per dictionary, the
/// last member of every enum, offsets other than UTC. New members are covered without touching the tests.
/// </summary>
internal sealed class StatePopulator
{
    private static readonly DateTimeOffset Epoch = new(2026, 11, 27, 22, 15, 30, 123, TimeSpan.FromHours(2));
    private int _next;

    public object Create(Type type, int depth = 0)
    {
        _next++;
        if (type == typeof(string)) return $"{type.Name.ToLowerInvariant()}-{_next}";
        if (type == typeof(bool)) return true;
        if (type == typeof(int)) return 1000 + _next;
        if (type == typeof(long)) return 10_000_000_000L + _next;
        if (type == typeof(double)) return _next + 0.25;
        if (type == typeof(float)) return _next + 0.5f;
        if (type == typeof(decimal)) return _next + 0.75m;
        if (type == typeof(ulong)) return 20_000_000_000UL + (ulong)_next;
        if (type == typeof(uint)) return 3000U + (uint)_next;
        if (type == typeof(short)) return (short)(100 + _next);
        if (type == typeof(byte)) return (byte)(_next % 200 + 1);
        if (type == typeof(Guid)) return Guid.NewGuid();
        if (type == typeof(DateTimeOffset)) return Epoch.AddMinutes(_next).AddTicks(_next);
        if (type == typeof(DateTime)) return Epoch.UtcDateTime.AddMinutes(_next);
        if (type == typeof(TimeSpan)) return TimeSpan.FromMilliseconds(1500 + _next);
        if (type.IsEnum)
        {
            var values = Enum.GetValues(type);
            return values.GetValue(values.Length - 1)!;
        }
        if (Nullable.GetUnderlyingType(type) is { } underlying) return Create(underlying, depth);
        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            var array = Array.CreateInstance(element, 2);
            array.SetValue(Create(element, depth + 1), 0);
            array.SetValue(Create(element, depth + 1), 1);
            return array;
        }
        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var args = type.GetGenericArguments();
            if (definition == typeof(List<>) || definition == typeof(HashSet<>))
            {
                var collection = Activator.CreateInstance(type)!;
                var add = type.GetMethod("Add", [args[0]])!;
                add.Invoke(collection, [Create(args[0], depth + 1)]);
                add.Invoke(collection, [Create(args[0], depth + 1)]);
                return collection;
            }
            if (definition == typeof(IReadOnlyList<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>) || definition == typeof(IList<>))
            {
                return typeof(StatePopulator).GetMethod(nameof(Pair), BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(args[0]).Invoke(null, [Create(args[0], depth + 1), Create(args[0], depth + 1)])!;
            }
            if (definition == typeof(Dictionary<,>) || definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(IDictionary<,>))
            {
                var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args))!;
                dictionary[Create(args[0], depth + 1)] = Create(args[1], depth + 1);
                dictionary[Create(args[0], depth + 1)] = Create(args[1], depth + 1);
                return dictionary;
            }
        }
        if (depth > 8) throw new InvalidOperationException($"{type} nests too deep to populate.");
        return CreateObject(type, depth);
    }

    /// <summary>A read-only list of the compiler-made type a collection expression produces.</summary>
    private static IReadOnlyList<T> Pair<T>(T a, T b) => [a, b];

    private object CreateObject(Type type, int depth)
    {
        var constructor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"{type} has no public constructor to populate it with.");
        var value = constructor.Invoke(constructor.GetParameters().Select(p => Create(p.ParameterType, depth + 1)).ToArray());
        var fromConstructor = constructor.GetParameters().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (fromConstructor.Contains(property.Name) || property.SetMethod is null || property.GetIndexParameters().Length > 0) continue;
            property.SetValue(value, Create(property.PropertyType, depth + 1));
        }
        return value;
    }
}
