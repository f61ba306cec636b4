using System.Text.RegularExpressions;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Postgres.Tenants;

/// <summary>Rows of one table of a tenant before and after an erase.</summary>
public sealed record TenantRows(string Table, long Before, long After);

/// <summary>What an erase removed on one tier's primary, and what the checks found afterwards.</summary>
public sealed record TenantDropResult(
    IReadOnlyList<string> Removed,
    IReadOnlyList<TenantRows> Rows,
    bool SchemaRemains,
    bool RoleRemains,
    long RowsRemaining);

/// <summary>
/// A tenant's footprint on one tier's primary: its login role, and its schema (<c>tenant_&lt;name&gt;</c>) or its RLS
/// policies on the shared tables. Every operation is idempotent and transactional, so the tenant grain may repeat a step
/// after a crash. The role's password is set as a SCRAM verifier: the plaintext never reaches the server or a log.
/// </summary>
public sealed partial class TenantProvisioner(ILogger logger)
{
    private const string Prefix = "tenant_";
    private const int MaxIdentifierLength = 63;

    /// <summary>The role (and schema) name of <paramref name="tenant"/>: <c>tenant_</c> + the name with '-' as '_'.</summary>
    public static string RoleOf(string tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (!TenantName().IsMatch(tenant)) throw new ArgumentException($"tenant '{tenant}' is invalid; expected lowercase letters, digits and '-'.", nameof(tenant));
        var name = Prefix + tenant.Replace('-', '_');
        if (name.Length > MaxIdentifierLength)
            throw new ArgumentException($"tenant '{tenant}' is too long: role '{name}' has {name.Length} characters, PostgreSQL allows {MaxIdentifierLength}.", nameof(tenant));
        return name;
    }

    /// <summary>Creates (or brings back in line) the role, the schema or the shared-table policies, and the grants.</summary>
    public async Task ProvisionAsync(ReplicaEndpoint primary, string tenant, bool shared, string passwordFile, int connectionLimit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        var role = RoleOf(tenant);
        await SecretFile.EnsureAsync(passwordFile, ct).ConfigureAwait(false);
        var verifier = SecretFile.ScramSha256Verifier(SecretFile.Read(passwordFile));
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var exists = (bool)(await AdminSql.ScalarAsync(connection, TenantSql.RoleExists, ct, role).ConfigureAwait(false))!;
        await AdminSql.ExecuteFormattedAsync(connection, exists ? TenantSql.AlterRole : TenantSql.CreateRole, ct, role, connectionLimit, verifier).ConfigureAwait(false);
        if (shared)
        {
            await AdminSql.ExecuteFormattedAsync(connection, TenantSql.CreateSchema, ct, TenantSql.SharedSchema).ConfigureAwait(false);
            await AdminSql.ExecuteFormattedAsync(connection, TenantSql.RevokeSchemaFromPublic, ct, TenantSql.SharedSchema).ConfigureAwait(false);
            await AdminSql.ExecuteFormattedAsync(connection, TenantSql.GrantSharedSchema, ct, TenantSql.SharedSchema, role).ConfigureAwait(false);
            foreach (var table in await NamesAsync(connection, TenantSql.SharedTables, TenantSql.SharedSchema, ct).ConfigureAwait(false))
            {
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.EnableRls, ct, TenantSql.SharedSchema, table).ConfigureAwait(false);
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.ForceRls, ct, TenantSql.SharedSchema, table).ConfigureAwait(false);
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.DropPolicy, ct, role, TenantSql.SharedSchema, table).ConfigureAwait(false);
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.CreatePolicy, ct, role, TenantSql.SharedSchema, table, tenant).ConfigureAwait(false);
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.GrantRows, ct, TenantSql.SharedSchema, table, role).ConfigureAwait(false);
            }
        }
        else
        {
            await AdminSql.ExecuteFormattedAsync(connection, TenantSql.CreateSchema, ct, role).ConfigureAwait(false);
            await AdminSql.ExecuteFormattedAsync(connection, TenantSql.RevokeSchemaFromPublic, ct, role).ConfigureAwait(false);
            await AdminSql.ExecuteFormattedAsync(connection, TenantSql.GrantSchema, ct, role, role).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        logger.LogInformation("Provisioned tenant {Tenant} on {Tier}/{Replica}: role {Role}, {Placement}",
            tenant, primary.Tier, primary.Name, role, shared ? $"policies on {TenantSql.SharedSchema}" : $"schema {role}");
    }

    /// <summary>Refuses new logins of the tenant's role and ends its sessions; answers how many were ended.</summary>
    public async Task<int> LockAsync(ReplicaEndpoint primary, string tenant, CancellationToken ct)
    {
        var role = RoleOf(tenant);
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        if (!(bool)(await AdminSql.ScalarAsync(connection, TenantSql.RoleExists, ct, role).ConfigureAwait(false))!) return 0;
        // NOLOGIN first, so nothing reconnects between the two statements.
        await AdminSql.ExecuteFormattedAsync(connection, TenantSql.NoLogin, ct, role).ConfigureAwait(false);
        var ended = Convert.ToInt32(await AdminSql.ScalarAsync(connection, TenantSql.TerminateSessions, ct, role).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        logger.LogInformation("Locked tenant {Tenant} on {Tier}/{Replica}: role {Role} NOLOGIN, {Sessions} session(s) ended", tenant, primary.Tier, primary.Name, role, ended);
        return ended;
    }

    /// <summary>Lets the tenant's role log in again.</summary>
    public async Task UnlockAsync(ReplicaEndpoint primary, string tenant, CancellationToken ct)
    {
        var role = RoleOf(tenant);
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        if (!(bool)(await AdminSql.ScalarAsync(connection, TenantSql.RoleExists, ct, role).ConfigureAwait(false))!)
            throw new InvalidOperationException($"role '{role}' of tenant '{tenant}' does not exist on {primary.Tier}/{primary.Name}; it cannot be unlocked.");
        await AdminSql.ExecuteFormattedAsync(connection, TenantSql.Login, ct, role).ConfigureAwait(false);
        logger.LogInformation("Unlocked tenant {Tenant} on {Tier}/{Replica}: role {Role} LOGIN", tenant, primary.Tier, primary.Name, role);
    }

    /// <summary>Whether the tenant's role exists and may log in (null: no role).</summary>
    public static async Task<bool?> CanLoginAsync(ReplicaEndpoint primary, string tenant, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        return await AdminSql.ScalarAsync(connection, TenantSql.RoleCanLogin, ct, RoleOf(tenant)).ConfigureAwait(false) as bool?;
    }

    /// <summary>
    /// Drops the tenant's schema, or deletes its rows from the shared tables and drops its policies, then its role, in one
    /// transaction; counts before and after, and checks from scratch that nothing of the tenant is left.
    /// </summary>
    public async Task<TenantDropResult> DropAsync(ReplicaEndpoint primary, string tenant, CancellationToken ct)
    {
        var role = RoleOf(tenant);
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        var removed = new List<string>();
        var before = await CountAsync(connection, tenant, ct).ConfigureAwait(false);
        await using (var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false))
        {
            await AdminSql.ScalarAsync(connection, TenantSql.TerminateSessions, ct, role).ConfigureAwait(false);
            if ((bool)(await AdminSql.ScalarAsync(connection, TenantSql.SchemaExists, ct, role).ConfigureAwait(false))!)
            {
                var tables = before.Count(r => r.Table.StartsWith(role + ".", StringComparison.Ordinal));
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.DropSchema, ct, role).ConfigureAwait(false);
                removed.Add($"schema {role} ({tables} table(s))");
            }
            foreach (var table in await NamesAsync(connection, TenantSql.SharedTables, TenantSql.SharedSchema, ct).ConfigureAwait(false))
            {
                var deleted = before.FirstOrDefault(r => r.Table == $"{TenantSql.SharedSchema}.{table}").Rows;
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.DeleteTenantRows, ct, TenantSql.SharedSchema, table, tenant).ConfigureAwait(false);
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.DropPolicy, ct, role, TenantSql.SharedSchema, table).ConfigureAwait(false);
                removed.Add($"{deleted} row(s) and policy {role} of {TenantSql.SharedSchema}.{table}");
            }
            if ((bool)(await AdminSql.ScalarAsync(connection, TenantSql.RoleExists, ct, role).ConfigureAwait(false))!)
            {
                // DROP OWNED revokes what the role was granted in this database and drops what it still owns here.
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.DropOwned, ct, role).ConfigureAwait(false);
                await AdminSql.ExecuteFormattedAsync(connection, TenantSql.DropRole, ct, role).ConfigureAwait(false);
                removed.Add($"role {role}");
            }
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }

        // Verification, from scratch: the catalog and the shared tables as they are now.
        var after = await CountAsync(connection, tenant, ct).ConfigureAwait(false);
        var schemaRemains = (bool)(await AdminSql.ScalarAsync(connection, TenantSql.SchemaExists, ct, role).ConfigureAwait(false))!;
        var roleRemains = (bool)(await AdminSql.ScalarAsync(connection, TenantSql.RoleExists, ct, role).ConfigureAwait(false))!;
        var rows = before.Select(b => new TenantRows(b.Table, b.Rows, after.FirstOrDefault(a => a.Table == b.Table).Rows)).ToList();
        var remaining = after.Sum(a => a.Rows);
        logger.LogInformation("Erased tenant {Tenant} on {Tier}/{Replica}: {Removed}; rows remaining {Remaining}",
            tenant, primary.Tier, primary.Name, string.Join("; ", removed), remaining);
        return new TenantDropResult(removed, rows, schemaRemains, roleRemains, remaining);
    }

    /// <summary>Rows of the tenant: every table of its schema, and its rows in each shared table.</summary>
    private static async Task<List<(string Table, long Rows)>> CountAsync(NpgsqlConnection connection, string tenant, CancellationToken ct)
    {
        var role = RoleOf(tenant);
        var counts = new List<(string, long)>();
        foreach (var table in await NamesAsync(connection, TenantSql.SchemaTables, role, ct).ConfigureAwait(false))
            counts.Add(($"{role}.{table}", await CountFormattedAsync(connection, TenantSql.CountAll, ct, role, table).ConfigureAwait(false)));
        foreach (var table in await NamesAsync(connection, TenantSql.SharedTables, TenantSql.SharedSchema, ct).ConfigureAwait(false))
            counts.Add(($"{TenantSql.SharedSchema}.{table}", await CountFormattedAsync(connection, TenantSql.CountTenantRows, ct, TenantSql.SharedSchema, table, tenant).ConfigureAwait(false)));
        return counts;
    }

    private static async Task<long> CountFormattedAsync(NpgsqlConnection connection, string formatSql, CancellationToken ct, params object[] args)
    {
        var statement = (string)(await AdminSql.ScalarAsync(connection, formatSql, ct, args).ConfigureAwait(false))!;
        return Convert.ToInt64(await AdminSql.ScalarAsync(connection, statement, ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The names a catalog query answers for <paramref name="schema"/> (its only parameter).</summary>
    internal static async Task<List<string>> NamesAsync(NpgsqlConnection connection, string sql, string schema, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        cmd.Parameters.Add(new NpgsqlParameter { Value = schema });
        var names = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return names;
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex TenantName();
}
