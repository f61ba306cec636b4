using System.Security.Cryptography;
using System.Text;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// Passwords at rest: generated with a CSPRNG, kept in 0600 files. The value only ever travels from a file
/// to a connection or another 0600 file; it never appears in a log line, an exception message or ToString.
/// </summary>
public static class SecretFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A URL-safe password of <paramref name="bytes"/> random bytes (256 bits by default).</summary>
    public static string GeneratePassword(int bytes = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 16);
        return Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>Creates <paramref name="path"/> with a new password unless it exists; mode 0600, current user.</summary>
    public static async Task EnsureAsync(string path, CancellationToken ct)
    {
        if (File.Exists(path)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await WriteAsync(path, GeneratePassword(), ct).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="secret"/> to a 0600 file owned by the current user.</summary>
    public static Task WriteAsync(string path, string secret, CancellationToken ct) =>
        OsUser.WriteFileAsync(path, secret + "\n", OwnerOnly, forPostgres: false, ct);

    /// <summary>Writes a 0600 copy owned by the postgres user (when root), for tools running as postgres.</summary>
    public static Task WriteForPostgresAsync(string path, string content, CancellationToken ct) =>
        OsUser.WriteFileAsync(path, content, OwnerOnly, forPostgres: true, ct);

    /// <summary>Reads a secret back (first line, trimmed).</summary>
    public static string Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Secret file '{path}' does not exist.", path);
        var text = File.ReadAllText(path);
        var end = text.IndexOfAny(['\r', '\n']);
        var secret = (end < 0 ? text : text[..end]).Trim();
        if (secret.Length == 0) throw new InvalidDataException($"Secret file '{path}' is empty.");
        return secret;
    }

    /// <summary>A libpq password file line matching any host, port and database for <paramref name="user"/>.</summary>
    public static string PgPassLine(string user, string password) => $"*:*:*:{EscapePgPass(user)}:{EscapePgPass(password)}\n";

    /// <summary>
    /// A SCRAM-SHA-256 verifier as PostgreSQL stores it, so a role's password can be set without the
    /// plaintext ever reaching the server (or its log, should the statement fail).
    /// </summary>
    public static string ScramSha256Verifier(string password, int iterations = 4096)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }

    private static string EscapePgPass(string value) => value.Replace("\\", "\\\\").Replace(":", "\\:");
}
