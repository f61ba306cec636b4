// How grain state is encoded in orleans_grain_state.payload_binary.
//
// Why this shape:
// - State used to be Newtonsoft JSON with .NET type names ($type, TypeNameHandling.All): renaming a class or a
//   namespace broke stored state, and the catalog told the silo which types to construct. It is now written with
//   Orleans' own serializer: members are identified by their [Id], a type that has to be named (a value whose
//   runtime type differs from the declared one) by its [Alias]. Renames are safe while the ids and aliases stay.
// - Rows written by the previous release still read: a payload whose first non-blank byte is '{' is the old JSON
//   (the Orleans encoding starts with the field header of field 0, whose low three bits are 0, never 0x7B) and goes
//   to LegacyGrainStateReader, which only lets our own types be named. The next write of that grain, or the
//   start-up rewrite (GrainStateMigration), stores it in the new encoding.
// - Only the "catalog" storage uses this; Orleans' stream pub-sub state is memory storage, not in the catalog.

using System.Buffers;
using Orleans.Serialization;
using Orleans.Storage;

namespace ControlPlane.Silo.Catalog;

/// <summary>Writes grain state with Orleans' version-tolerant serializer; reads that, or the previous release's JSON.</summary>
public sealed class GrainStateSerializer(Serializer serializer, LegacyGrainStateReader legacy) : IGrainStorageSerializer
{
    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input)
    {
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(input, buffer);
        return new BinaryData(buffer.WrittenMemory);
    }

    /// <inheritdoc/>
    public T Deserialize<T>(BinaryData input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var bytes = input.ToMemory();
        return IsLegacy(bytes.Span) ? legacy.Read<T>(bytes.Span) : serializer.Deserialize<T>(bytes)!;
    }

    /// <summary>Encodes <paramref name="value"/> as <paramref name="type"/> (the start-up rewrite knows types only at run time).</summary>
    public byte[] Serialize(Type type, object value)
    {
        ArgumentNullException.ThrowIfNull(type);
        var method = SerializeMethod.MakeGenericMethod(type);
        try
        {
            return ((BinaryData)method.Invoke(this, [value])!).ToArray();
        }
        catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }

    private static readonly System.Reflection.MethodInfo SerializeMethod =
        typeof(GrainStateSerializer).GetMethods().Single(m => m.Name == nameof(Serialize) && m.IsGenericMethodDefinition);

    /// <summary>Whether <paramref name="payload"/> is the previous release's JSON rather than the Orleans encoding.</summary>
    public static bool IsLegacy(ReadOnlySpan<byte> payload)
    {
        foreach (var b in payload)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b == (byte)'{';
        }
        return false;
    }
}
