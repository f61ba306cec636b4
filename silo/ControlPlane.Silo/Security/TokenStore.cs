using ControlPlane.Protos.V1;
using Npgsql;

namespace ControlPlane.Silo.Security;

/// <summary>A token's row: everything but the secret, which the catalog never had.</summary>
internal sealed record TokenRecord(
    string Id, string Name, Role Role, IReadOnlyList<string> Tenants, byte[] Salt, byte[] Hash,
    DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedBy)
{
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>
/// Tokens in the catalog (controlplane_tokens). Calls are authenticated through the <see cref="TokenCache"/>
/// (see <see cref="Authenticator"/>); a revocation here drops the id from this silo's cache at once, and the
/// catalog's notice (migration 0005) drops it from every other silo's.
/// </summary>
internal sealed class TokenStore(SecurityCatalog catalog, TokenCache cache)
{
    private const string Columns = "id, name, role, tenants, salt, hash, created_at, created_by, expires_at, revoked_at, revoked_by";

    private const string FindSql = $"SELECT {Columns} FROM controlplane_tokens WHERE id = @id";

    private const string ListSql = $"""
        SELECT {Columns} FROM controlplane_tokens
         WHERE @all OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))
         ORDER BY created_at, id
        """;

    private const string InsertSql = """
        INSERT INTO controlplane_tokens (id, name, role, tenants, salt, hash, created_by, expires_at)
        VALUES (@id, @name, @role, @tenants, @salt, @hash, @created_by, @expires_at)
        """;

    private const string RevokeSql = """
        UPDATE controlplane_tokens SET revoked_at = now(), revoked_by = @by
         WHERE id = @id AND revoked_at IS NULL
        """;

    private const string AnyActiveAdminSql = """
        SELECT EXISTS (SELECT 1 FROM controlplane_tokens
                        WHERE role = 'admin' AND cardinality(tenants) = 0 AND revoked_at IS NULL
                          AND (expires_at IS NULL OR expires_at > now()))
        """;

    // Two silos starting together must not both mint a first admin token.
    private const string BootstrapLockSql = "SELECT pg_advisory_xact_lock(7400400400)";

    public async Task<TokenRecord?> FindAsync(string id, CancellationToken ct)
    {
        await using var command = catalog.DataSource.CreateCommand(FindSql);
        command.CommandTimeout = SecurityCatalog.LookupTimeoutSeconds;
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<TokenRecord>> ListAsync(bool includeInactive, CancellationToken ct)
    {
        await using var command = catalog.DataSource.CreateCommand(ListSql);
        command.CommandTimeout = SecurityCatalog.LookupTimeoutSeconds;
        command.Parameters.AddWithValue("all", includeInactive);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var tokens = new List<TokenRecord>();
        while (await reader.ReadAsync(ct)) tokens.Add(Read(reader));
        return tokens;
    }

    /// <summary>Issues a token and stores its hash; returns the token text (shown once) and its id.</summary>
    public async Task<IssuedToken> CreateAsync(
        string name, Role role, IReadOnlyList<string> tenants, DateTimeOffset? expiresAt, string createdBy, CancellationToken ct)
    {
        await using var connection = await catalog.DataSource.OpenConnectionAsync(ct);
        var issued = BearerToken.Issue();
        await InsertAsync(connection, null, issued, name, role, tenants, expiresAt, createdBy, ct);
        return issued;
    }

    /// <summary>Creates an unscoped admin token when the catalog has no active one; null when one exists.</summary>
    public async Task<IssuedToken?> BootstrapAdminAsync(string name, CancellationToken ct)
    {
        await using var connection = await catalog.DataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand(BootstrapLockSql, connection, tx))
        {
            lockCommand.CommandTimeout = SecurityCatalog.WriteTimeoutSeconds;
            await lockCommand.ExecuteNonQueryAsync(ct);
        }
        await using (var exists = new NpgsqlCommand(AnyActiveAdminSql, connection, tx))
        {
            exists.CommandTimeout = SecurityCatalog.WriteTimeoutSeconds;
            if ((bool)(await exists.ExecuteScalarAsync(ct))!) return null;
        }
        var issued = BearerToken.Issue();
        await InsertAsync(connection, tx, issued, name, Role.Admin, [], null, "controlplane", ct);
        await tx.CommitAsync(ct);
        return issued;
    }

    /// <summary>Revokes a token (idempotent); null when no token has this id.</summary>
    public async Task<TokenRecord?> RevokeAsync(string id, string by, CancellationToken ct)
    {
        await using (var command = catalog.DataSource.CreateCommand(RevokeSql))
        {
            command.CommandTimeout = SecurityCatalog.WriteTimeoutSeconds;
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("by", by);
            await command.ExecuteNonQueryAsync(ct);
        }
        cache.Invalidate(id);
        return await FindAsync(id, ct);
    }

    private static async Task InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction? tx, IssuedToken issued, string name, Role role,
        IReadOnlyList<string> tenants, DateTimeOffset? expiresAt, string createdBy, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(InsertSql, connection, tx);
        command.CommandTimeout = SecurityCatalog.WriteTimeoutSeconds;
        command.Parameters.AddWithValue("id", issued.Id);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("role", Roles.Name(role));
        command.Parameters.AddWithValue("tenants", tenants.ToArray());
        command.Parameters.AddWithValue("salt", issued.Salt);
        command.Parameters.AddWithValue("hash", issued.Hash);
        command.Parameters.AddWithValue("created_by", createdBy);
        command.Parameters.Add(new NpgsqlParameter("expires_at", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = expiresAt is { } e ? e.UtcDateTime : DBNull.Value });
        await command.ExecuteNonQueryAsync(ct);
    }

    private static TokenRecord Read(NpgsqlDataReader r)
    {
        Roles.TryParse(r.GetString(2), out var role);
        return new TokenRecord(
            r.GetString(0), r.GetString(1), role, r.GetFieldValue<string[]>(3), r.GetFieldValue<byte[]>(4), r.GetFieldValue<byte[]>(5),
            r.GetFieldValue<DateTimeOffset>(6), r.GetString(7),
            r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8),
            r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
            r.IsDBNull(10) ? null : r.GetString(10));
    }
}
