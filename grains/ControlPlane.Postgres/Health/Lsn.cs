using System.Globalization;

namespace ControlPlane.Postgres.Health;

/// <summary>A PostgreSQL WAL location (<c>pg_lsn</c>), printed as PostgreSQL prints it: <c>16/B374D848</c>.</summary>
public readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static Lsn Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == text.Length - 1
            || !uint.TryParse(text.AsSpan(0, slash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var high)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var low))
        {
            throw new FormatException($"'{text}' is not a WAL location; expected two hexadecimal numbers separated by '/', like 16/B374D848.");
        }
        return new Lsn(((ulong)high << 32) | low);
    }

    public static bool TryParse(string? text, out Lsn lsn)
    {
        lsn = default;
        if (string.IsNullOrEmpty(text)) return false;
        try { lsn = Parse(text); return true; }
        catch (FormatException) { return false; }
    }

    /// <summary>Bytes from <paramref name="behind"/> to this location, never negative.</summary>
    public long BytesAhead(Lsn behind) => Value > behind.Value ? (long)Math.Min(Value - behind.Value, long.MaxValue) : 0;

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;
    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;
    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;
    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Value >> 32:X}/{Value & 0xFFFFFFFF:X}");
}
