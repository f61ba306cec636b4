using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Tenants;

/// <summary>Another tenant on the same tier, as a probe target.</summary>
public sealed record ProbeTarget(string Tenant, bool Shared);

/// <summary>One attempt of the probe: what it tried on whose data, and whether it got through.</summary>
public sealed record ProbeAttempt(string Target, string Attempt, bool Leaked, string Detail);

/// <summary>
/// The live cross-tenant probe: logs in exactly as tenant A's application does (its role, its password file) and tries
/// to read, write, update and delete tenant B's objects and rows. Every write is made in a transaction that is rolled
/// back, so even a leak changes nothing. Privilege errors (42501) are the expected outcome; seeing B's rows or getting
/// a write through is a leak.
/// </summary>
public static class TenantProbe
{
    private const string InsufficientPrivilege = "42501";

    public static async Task<IReadOnlyList<ProbeAttempt>> RunAsync(
        ReplicaEndpoint primary, string tenant, string passwordFile, IReadOnlyList<ProbeTarget> targets, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(targets);
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = primary.Host,
            Port = primary.Port,
            Database = primary.Database,
            Username = TenantProvisioner.RoleOf(tenant),
            Password = SecretFile.Read(passwordFile),
            Pooling = false,
            Timeout = 10,
            CommandTimeout = AdminSql.CommandTimeoutSeconds,
            ApplicationName = "controlplane-probe",
        }.ConnectionString;
        await using var connection = await AdminSql.OpenAsync(connectionString, ct).ConfigureAwait(false);
        var attempts = new List<ProbeAttempt>();
        foreach (var target in targets)
        {
            var schema = TenantProvisioner.RoleOf(target.Tenant);
            if (!target.Shared)
            {
                foreach (var table in await TenantProvisioner.NamesAsync(connection, TenantSql.SchemaTables, schema, ct).ConfigureAwait(false))
                    attempts.Add(await TryAsync(connection, target.Tenant, $"SELECT from {schema}.{table}", TenantSql.ProbeSelect, ct, schema, table).ConfigureAwait(false));
                attempts.Add(await TryAsync(connection, target.Tenant, $"CREATE TABLE in schema {schema}", TenantSql.ProbeCreate, ct, schema).ConfigureAwait(false));
                foreach (var (vs, view) in await PairsAsync(connection, TenantSql.ProbeViews, ct, schema, false).ConfigureAwait(false))
                    attempts.Add(await TryAsync(connection, target.Tenant, $"SELECT from {schema} through view {vs}.{view}", TenantSql.ProbeSelect, ct, vs, view).ConfigureAwait(false));
                continue;
            }
            foreach (var (vs, view) in await PairsAsync(connection, TenantSql.ProbeViews, ct, TenantSql.SharedSchema, true).ConfigureAwait(false))
                attempts.Add(await TryAsync(connection, target.Tenant, $"SELECT {target.Tenant}'s rows through view {vs}.{view}", TenantSql.ProbeSelectRows, ct, vs, view, target.Tenant).ConfigureAwait(false));
            foreach (var (fs, function) in await PairsAsync(connection, TenantSql.ProbeFunctions, ct).ConfigureAwait(false))
                attempts.Add(await TryAsync(connection, target.Tenant, $"SELECT {target.Tenant}'s rows through function {fs}.{function}()", TenantSql.ProbeFunctionRows, ct, fs, function, target.Tenant).ConfigureAwait(false));
            foreach (var table in await TenantProvisioner.NamesAsync(connection, TenantSql.SharedTables, TenantSql.SharedSchema, ct).ConfigureAwait(false))
            {
                var name = $"{TenantSql.SharedSchema}.{table}";
                attempts.Add(await TryAsync(connection, target.Tenant, $"SELECT {target.Tenant}'s rows of {name}", TenantSql.ProbeSelectRows, ct, TenantSql.SharedSchema, table, target.Tenant).ConfigureAwait(false));
                attempts.Add(await TryAsync(connection, target.Tenant, $"INSERT a row as {target.Tenant} into {name}", TenantSql.ProbeInsertRow, ct, TenantSql.SharedSchema, table, target.Tenant).ConfigureAwait(false));
                attempts.Add(await TryAsync(connection, target.Tenant, $"UPDATE {target.Tenant}'s rows of {name}", TenantSql.ProbeUpdateRows, ct, TenantSql.SharedSchema, table, target.Tenant).ConfigureAwait(false));
                attempts.Add(await TryAsync(connection, target.Tenant, $"DELETE {target.Tenant}'s rows of {name}", TenantSql.ProbeDeleteRows, ct, TenantSql.SharedSchema, table, target.Tenant).ConfigureAwait(false));
            }
        }
        return attempts;
    }

    /// <summary>The (schema, name) rows a catalog query answers, as the probing role sees the catalog.</summary>
    private static async Task<List<(string, string)>> PairsAsync(NpgsqlConnection connection, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        var rows = new List<(string, string)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    /// <summary>Runs one attempt in a transaction that is always rolled back; a refusal or no row touched is not a leak.</summary>
    private static async Task<ProbeAttempt> TryAsync(NpgsqlConnection connection, string target, string attempt, string formatSql, CancellationToken ct, params object[] args)
    {
        // The statement is rendered by the server from parameters, as the tenant (format() needs no privilege).
        var statement = (string)(await AdminSql.ScalarAsync(connection, formatSql, ct, args).ConfigureAwait(false))!;
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand(statement, connection, tx) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            long rows = 0;
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows++;
            rows = Math.Max(rows, reader.RecordsAffected);
            return rows == 0
                ? new ProbeAttempt(target, attempt, false, "allowed but reached no row of the target")
                : new ProbeAttempt(target, attempt, true, $"LEAK: reached {rows} row(s) of the target");
        }
        catch (PostgresException e) when (e.SqlState == InsufficientPrivilege)
        {
            return new ProbeAttempt(target, attempt, false, $"refused ({e.SqlState}: {e.MessageText})");
        }
        catch (PostgresException e)
        {
            // Refused for another reason (a NOT NULL column, a constraint): nothing reached the target, but it proves less.
            return new ProbeAttempt(target, attempt, false, $"failed without reaching the target ({e.SqlState}: {e.MessageText})");
        }
        finally
        {
            await tx.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
