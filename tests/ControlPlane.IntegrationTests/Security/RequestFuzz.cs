using System.Collections;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>Random requests for any message type: hostile strings, extreme numbers, unknown enums, missing and empty fields.</summary>
internal sealed class RequestFuzz(int seed)
{
    private readonly Random _random = new(seed);

    private static readonly string[] Hostile =
    [
        "", " ", "a", "-", "0", "A", "fz-tier", "local\n", "oltp\u0000", "\u202eevil", "名前", "🐘🐘", "é", "\t", "\r\n",
        "' OR 1=1 --", "'; DROP TABLE controlplane_tokens; --", "../../etc/passwd", "%s%n%x", "${jndi:ldap://x}", "<script>",
        "cpt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "ok", "denied", "fz/", "-1", "9999999999999999999",
    ];

    public IMessage Request(MessageDescriptor descriptor) => Fill(descriptor, 0);

    private IMessage Fill(MessageDescriptor descriptor, int depth)
    {
        var message = descriptor.Parser.ParseFrom(ByteString.Empty);
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (field.IsMap || _random.Next(4) == 0) continue; // missing
            if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                var count = _random.Next(20) == 0 ? 300 : _random.Next(4);
                for (var i = 0; i < count; i++)
                {
                    if (Value(field, depth) is { } item) list.Add(item);
                }
            }
            else if (Value(field, depth) is { } value)
            {
                field.Accessor.SetValue(message, value);
            }
        }
        return message;
    }

    private object? Value(FieldDescriptor field, int depth) => field.FieldType switch
    {
        FieldType.String => String(),
        FieldType.Bool => _random.Next(2) == 0,
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => Pick(0, -1, 1, int.MaxValue, int.MinValue, _random.Next(), -_random.Next(1000)),
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => Pick(0L, -1L, 1L, long.MaxValue, long.MinValue, _random.NextInt64(), 315_537_897_599L),
        FieldType.UInt32 or FieldType.Fixed32 => Pick(0u, 1u, uint.MaxValue),
        FieldType.UInt64 or FieldType.Fixed64 => Pick(0ul, 1ul, ulong.MaxValue),
        FieldType.Double => Pick(0d, -1d, double.NaN, double.PositiveInfinity, double.MinValue, 1e308),
        FieldType.Float => Pick(0f, -1f, float.NaN, float.NegativeInfinity),
        FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, _random.Next(-3, 8)),
        FieldType.Bytes => ByteString.CopyFrom(RandomBytes(_random.Next(64))),
        FieldType.Message => depth >= 3 || _random.Next(3) == 0 ? null : Fill(field.MessageType, depth + 1),
        _ => null,
    };

    private string String() => _random.Next(12) switch
    {
        0 => new string('x', _random.Next(1000, 20_000)),
        1 => string.Concat(Enumerable.Range(0, _random.Next(1, 40)).Select(_ => (char)_random.Next(1, 0x20))),
        2 => string.Concat(Enumerable.Range(0, _random.Next(1, 30)).Select(_ => char.ConvertFromUtf32(_random.Next(0x80, 0x2FFFF) is var c && c is >= 0xD800 and <= 0xDFFF ? 0x4E00 : c))),
        3 => "fz" + string.Concat(Enumerable.Range(0, _random.Next(0, 70)).Select(_ => (char)_random.Next('a', 'z' + 1))),
        4 => Encoding.ASCII.GetString(RandomBytes(_random.Next(1, 50)).Select(b => (byte)(0x20 + (b % 0x5F))).ToArray()),
        _ => Hostile[_random.Next(Hostile.Length)],
    };

    private T Pick<T>(params T[] values) => values[_random.Next(values.Length)];

    private byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        _random.NextBytes(bytes);
        return bytes;
    }
}
