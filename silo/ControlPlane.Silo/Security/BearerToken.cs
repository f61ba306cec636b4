using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Silo.Security;

/// <summary>A freshly issued token: the text handed out once, and what the catalog keeps instead of it.</summary>
internal sealed record IssuedToken(string Id, string Token, byte[] Salt, byte[] Hash);

/// <summary>
/// Bearer tokens are "cpt_" + a public id (16 hex digits, 64 bits, the catalog's key) + "_" + a secret
/// (32 random bytes, base64url, 256 bits). Only SHA-256(salt || secret) is stored: with 256 bits of entropy no
/// slow hash is needed to resist guessing, and a stolen catalog yields no usable token.
/// </summary>
internal static class BearerToken
{
    public const string Prefix = "cpt_";
    private const int IdBytes = 8;
    private const int SecretBytes = 32;
    private const int SaltBytes = 16;
    private const int IdLength = IdBytes * 2;
    private const int SecretLength = 43; // base64url of 32 bytes, unpadded
    public const int Length = 4 + IdLength + 1 + SecretLength;

    public static IssuedToken Issue()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdBytes));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(SecretBytes));
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return new IssuedToken(id, $"{Prefix}{id}_{secret}", salt, Hash(salt, secret));
    }

    /// <summary>Splits a token into its id and secret; false for anything not shaped like one of ours.</summary>
    public static bool TryParse(string? token, out string id, out string secret)
    {
        id = "";
        secret = "";
        if (token is null || token.Length != Length || !token.StartsWith(Prefix, StringComparison.Ordinal) || token[4 + IdLength] != '_')
            return false;
        var idPart = token.AsSpan(4, IdLength);
        var secretPart = token.AsSpan(4 + IdLength + 1);
        foreach (var c in idPart)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        }
        foreach (var c in secretPart)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_') return false;
        }
        id = idPart.ToString();
        secret = secretPart.ToString();
        return true;
    }

    public static bool IsId(string? value) =>
        value is { Length: IdLength } && value.All(c => char.IsAsciiDigit(c) || char.IsAsciiHexDigitLower(c));

    public static byte[] Hash(byte[] salt, string secret)
    {
        var input = new byte[salt.Length + Encoding.ASCII.GetByteCount(secret)];
        salt.CopyTo(input, 0);
        Encoding.ASCII.GetBytes(secret, input.AsSpan(salt.Length));
        return SHA256.HashData(input);
    }

    /// <summary>Constant-time comparison, so response timing says nothing about how much of a guess was right.</summary>
    public static bool Verify(byte[] salt, byte[] hash, string secret) =>
        CryptographicOperations.FixedTimeEquals(Hash(salt, secret), hash);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
