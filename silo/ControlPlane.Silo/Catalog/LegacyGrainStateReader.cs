// Reads grain state written by the previous release: Newtonsoft JSON with $type names (TypeNameHandling.All).
//
// Why this shape:
// - The settings are the ones that wrote the rows (Orleans' JSON settings for grain storage, plus
//   ReadOnlyListJsonConverter for lists made by collection expressions), with one change: the binder. The old
//   binder constructed whatever type a $type named; this one resolves only types of our own assemblies and a short
//   list of BCL value and collection types, and never loads an assembly. A row naming anything else fails to read
//   with an error that names the type, instead of constructing it.
// - It never writes: new state is written by GrainStateSerializer in Orleans' encoding.

using System.Reflection;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace ControlPlane.Silo.Catalog;

/// <summary>Reads the previous release's type-named JSON grain state, naming only our own types.</summary>
public sealed class LegacyGrainStateReader
{
    private readonly JsonSerializerSettings _settings;

    /// <param name="written">The settings the previous release wrote with (Orleans' grain storage JSON settings).</param>
    public LegacyGrainStateReader(JsonSerializerSettings written)
    {
        ArgumentNullException.ThrowIfNull(written);
        _settings = new JsonSerializerSettings
        {
            TypeNameHandling = written.TypeNameHandling,
            TypeNameAssemblyFormatHandling = written.TypeNameAssemblyFormatHandling,
            PreserveReferencesHandling = written.PreserveReferencesHandling,
            DefaultValueHandling = written.DefaultValueHandling,
            MissingMemberHandling = written.MissingMemberHandling,
            NullValueHandling = written.NullValueHandling,
            ConstructorHandling = written.ConstructorHandling,
            ObjectCreationHandling = written.ObjectCreationHandling,
            ReferenceLoopHandling = written.ReferenceLoopHandling,
            DateParseHandling = written.DateParseHandling,
            DateTimeZoneHandling = written.DateTimeZoneHandling,
            FloatParseHandling = written.FloatParseHandling,
            Culture = written.Culture,
            ContractResolver = written.ContractResolver,
            MetadataPropertyHandling = MetadataPropertyHandling.Default,
            SerializationBinder = new OwnTypesBinder(),
        };
        foreach (var converter in written.Converters) _settings.Converters.Add(converter);
        if (!_settings.Converters.OfType<ReadOnlyListJsonConverter>().Any()) _settings.Converters.Add(new ReadOnlyListJsonConverter());
    }

    /// <summary>The settings Orleans 10 uses for JSON grain storage (what the previous release wrote with).</summary>
    public static LegacyGrainStateReader FromOrleansDefaults(Orleans.Serialization.OrleansJsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new LegacyGrainStateReader(options.JsonSerializerSettings);
    }

    /// <summary>Reads <paramref name="json"/> (UTF-8) as <typeparamref name="T"/>.</summary>
    /// <exception cref="JsonSerializationException">The JSON names a type that is not ours, or does not fit <typeparamref name="T"/>.</exception>
    public T Read<T>(ReadOnlySpan<byte> json)
    {
        var text = Encoding.UTF8.GetString(json);
        var value = JsonConvert.DeserializeObject(text, typeof(T), _settings);
        return value is T typed
            ? typed
            : throw new JsonSerializationException($"grain state JSON holds {value?.GetType().FullName ?? "null"}, expected {typeof(T).FullName}.");
    }

    /// <summary>Reads <paramref name="json"/> as <paramref name="type"/> (the start-up rewrite knows types only at run time).</summary>
    public object Read(Type type, ReadOnlySpan<byte> json)
    {
        ArgumentNullException.ThrowIfNull(type);
        var value = JsonConvert.DeserializeObject(Encoding.UTF8.GetString(json), type, _settings);
        return value is not null && type.IsInstanceOfType(value)
            ? value
            : throw new JsonSerializationException($"grain state JSON holds {value?.GetType().FullName ?? "null"}, expected {type.FullName}.");
    }
}

/// <summary>
/// Resolves a $type only to a type of a ControlPlane assembly already loaded, or to an allowed BCL type
/// (primitives, date and time values, lists, sets, dictionaries, arrays and nullables of allowed types).
/// </summary>
internal sealed class OwnTypesBinder : ISerializationBinder
{
    private const string OurPrefix = "ControlPlane.";

    private static readonly HashSet<Type> Values =
    [
        typeof(string), typeof(bool), typeof(byte), typeof(short), typeof(int), typeof(long), typeof(uint), typeof(ulong),
        typeof(float), typeof(double), typeof(decimal), typeof(char), typeof(Guid),
        typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan), typeof(DateOnly), typeof(TimeOnly),
    ];

    private static readonly HashSet<Type> Collections =
    [
        typeof(List<>), typeof(Dictionary<,>), typeof(HashSet<>), typeof(SortedDictionary<,>), typeof(KeyValuePair<,>),
        typeof(Nullable<>), typeof(IReadOnlyList<>), typeof(IReadOnlyCollection<>), typeof(IEnumerable<>),
        typeof(IList<>), typeof(ICollection<>), typeof(IDictionary<,>), typeof(IReadOnlyDictionary<,>),
        typeof(System.Collections.ObjectModel.ReadOnlyCollection<>),
    ];

    private static readonly Assembly CoreLib = typeof(object).Assembly;

    /// <summary>Names seen so far (a row names the same few types many times); null for a name refused.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Type?> _bound = new(StringComparer.Ordinal);

    public Type BindToType(string? assemblyName, string typeName)
    {
        var full = assemblyName is null ? typeName : $"{typeName}, {assemblyName}";
        var type = _bound.GetOrAdd(full, static name => Type.GetType(name, ResolveAssembly, ResolveType, throwOnError: false) is { } t && Allowed(t) ? t : null);
        if (type is null)
        {
            throw new JsonSerializationException(
                $"grain state names type '{full}', which is not one of the control plane's own types or an allowed BCL type; it is not constructed.");
        }
        return type;
    }

    public void BindToName(Type serializedType, out string? assemblyName, out string? typeName) =>
        throw new NotSupportedException("legacy grain state is only read; new state is written in Orleans' encoding.");

    /// <summary>Only assemblies already loaded, and only ours or the core library: nothing is loaded from a name in the catalog.</summary>
    private static Assembly? ResolveAssembly(AssemblyName name)
    {
        var simple = name.Name ?? "";
        if (simple is "System.Private.CoreLib" or "mscorlib") return CoreLib;
        if (!simple.StartsWith(OurPrefix, StringComparison.Ordinal)) return null;
        return AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == simple);
    }

    private static Type? ResolveType(Assembly? assembly, string name, bool ignoreCase) =>
        assembly is null ? CoreLib.GetType(name, throwOnError: false, ignoreCase: false) : assembly.GetType(name, throwOnError: false, ignoreCase: false);

    internal static bool Allowed(Type type)
    {
        if (type.IsArray) return Allowed(type.GetElementType()!);
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
        {
            var definition = type.GetGenericTypeDefinition();
            return (IsOurs(definition) || Collections.Contains(definition)) && type.GetGenericArguments().All(Allowed);
        }
        return IsOurs(type) || Values.Contains(type);
    }

    private static bool IsOurs(Type type) => type.Assembly.GetName().Name?.StartsWith(OurPrefix, StringComparison.Ordinal) == true;
}
