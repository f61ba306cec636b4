using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Postgres.Tenants;

/// <summary>The kinds of personal data a column can hold; each gets pseudonyms of its own shape.</summary>
public static class PiiKinds
{
    public const string Email = "email";
    public const string Name = "name";
    public const string Phone = "phone";
    public const string Address = "address";
    public const string Ip = "ip";
    public const string BirthDate = "birthdate";

    /// <summary>Any other identifying text (national id, free text about a person): an opaque token.</summary>
    public const string Text = "text";

    public static readonly IReadOnlyList<string> All = [Email, Name, Phone, Address, Ip, BirthDate, Text];

    public static bool IsKnown(string kind) => All.Contains(kind, StringComparer.Ordinal);

    /// <summary>The longest pseudonym of a kind, so a declared <c>varchar(n)</c> can be checked to hold it.</summary>
    public static int MaxLength(string kind) => kind switch
    {
        Email => 30,
        Name => 24,
        Phone => 16,
        Address => 28,
        Ip => 39,
        BirthDate => 10,
        _ => 25,
    };
}

/// <summary>
/// Deterministic, irreversible pseudonyms: HMAC-SHA256 under a per-environment key over the kind and the normalised
/// value, shaped per kind so the result stays valid where the original was (an email stays an email, an ip an inet, a
/// birth date a date). Same key, kind and value give the same pseudonym in every table and tier, so joins survive; without
/// the key nothing maps back. Pseudonyms live in ranges no real value uses (<c>@anon.invalid</c>, <c>+99</c>,
/// <c>2001:db8::/32</c>) except birth dates, which are dates: those avoid the originals they replace (see <see cref="Of"/>).
/// Pure: the key is handed in and never leaves.
/// </summary>
public sealed class Pseudonymiser
{
    private const string Consonants = "bdfgklmnprstvz";
    private const string Vowels = "aeiou";
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";
    private static readonly string[] Streets = ["Street", "Road", "Lane", "Way", "Row"];
    private static readonly DateOnly FirstBirth = new(1930, 1, 1);
    private const int BirthDays = 27_393; // 1930-01-01 .. 2004-12-31
    private readonly byte[] _key;

    public Pseudonymiser(ReadOnlySpan<byte> key)
    {
        if (key.Length < 16) throw new ArgumentException($"the pseudonym key has {key.Length} bytes; expected at least 16.", nameof(key));
        _key = key.ToArray();
    }

    /// <summary>
    /// The pseudonym of <paramref name="value"/>. When it happens to equal one of <paramref name="avoid"/> (the original
    /// values being replaced, so that none survives anywhere), the next derivation is taken: still deterministic for the
    /// same originals.
    /// </summary>
    public string Of(string kind, string value, IReadOnlySet<string>? avoid = null)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(value);
        if (!PiiKinds.IsKnown(kind)) throw new ArgumentException($"kind '{kind}' is unknown; expected one of {string.Join(", ", PiiKinds.All)}.", nameof(kind));
        var normal = Normalise(kind, value);
        for (var round = 0; ; round++)
        {
            var candidate = Shape(kind, Mac(kind, normal, round), normal);
            if (candidate != value && candidate != normal && (avoid is null || !avoid.Contains(candidate))) return candidate;
        }
    }

    /// <summary>The form two spellings of one value share, so they get one pseudonym (case of an email, punctuation of a phone).</summary>
    public static string Normalise(string kind, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var trimmed = value.Trim();
        return kind switch
        {
            PiiKinds.Email => trimmed.ToLowerInvariant(),
            PiiKinds.Phone => new string(trimmed.Where(char.IsAsciiDigit).ToArray()),
            PiiKinds.Ip => IPAddress.TryParse(trimmed.Split('/')[0], out var ip) ? ip.ToString() : trimmed.ToLowerInvariant(),
            PiiKinds.Name or PiiKinds.Address => string.Join(' ', trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant(),
            _ => trimmed,
        };
    }

    private byte[] Mac(string kind, string normal, int round)
    {
        var input = Encoding.UTF8.GetBytes(round == 0 ? $"{kind}\0{normal}" : $"{kind}\0{normal}\0{round.ToString(CultureInfo.InvariantCulture)}");
        return HMACSHA256.HashData(_key, input);
    }

    private static string Shape(string kind, byte[] mac, string normal) => kind switch
    {
        PiiKinds.Email => $"u{Token(mac, 16)}@anon.invalid",
        PiiKinds.Name => $"{Word(mac, 0, 3)} {Word(mac, 3, 4)}",
        PiiKinds.Phone => "+99" + (BinaryPrimitives.ReadUInt64BigEndian(mac) % 10_000_000_000_000UL).ToString("D13", CultureInfo.InvariantCulture),
        PiiKinds.Address => $"{1 + (BinaryPrimitives.ReadUInt16BigEndian(mac.AsSpan(8)) % 9999)} {Word(mac, 0, 4)} {Streets[mac[10] % Streets.Length]}",
        PiiKinds.Ip => Ip(mac),
        PiiKinds.BirthDate => FirstBirth.AddDays((int)(BinaryPrimitives.ReadUInt32BigEndian(mac) % BirthDays)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => $"anon-{Token(mac, 20)}",
    };

    /// <summary>Base32 letters from the MAC's bits: 5 bits a character.</summary>
    private static string Token(byte[] mac, int length)
    {
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            var bit = i * 5;
            var pair = (mac[bit / 8] << 8) | mac[(bit / 8) + 1];
            text.Append(Base32[(pair >> (11 - (bit % 8))) & 31]);
        }
        return text.ToString();
    }

    /// <summary>A pronounceable capitalised word of consonant-vowel syllables (70 per syllable) from bytes at <paramref name="offset"/>.</summary>
    private static string Word(byte[] mac, int offset, int syllables)
    {
        var text = new StringBuilder(syllables * 2);
        for (var i = 0; i < syllables; i++)
        {
            var b = BinaryPrimitives.ReadUInt16BigEndian(mac.AsSpan(12 + (2 * (offset + i))));
            var syllable = b % (Consonants.Length * Vowels.Length);
            text.Append(Consonants[syllable / Vowels.Length]).Append(Vowels[syllable % Vowels.Length]);
        }
        text[0] = char.ToUpperInvariant(text[0]);
        return text.ToString();
    }

    /// <summary>An address in 2001:db8::/32, the range reserved for documentation: valid for inet, never a real host.</summary>
    private static string Ip(byte[] mac)
    {
        var bytes = new byte[16];
        bytes[0] = 0x20;
        bytes[1] = 0x01;
        bytes[2] = 0x0d;
        bytes[3] = 0xb8;
        mac.AsSpan(0, 12).CopyTo(bytes.AsSpan(4));
        return new IPAddress(bytes).ToString();
    }
}
