using System.Globalization;
using System.Text.Json;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Postgres.Tenants;

/// <summary>A column of a tenant schema, as the catalog describes it.</summary>
public sealed record TenantColumn(string Schema, string Table, string Column, string DataType);

/// <summary>A declared personal-data column: the table's name (in each tenant schema, or in the shared schema), the column, its kind.</summary>
public sealed record PiiTarget(string Table, string Column, string Kind);

/// <summary>What anonymisation did to one column of the tenant on a tier. <c>Note</c> says why a column was skipped.</summary>
public sealed record AnonymisedColumnResult(string Table, string Column, string Kind, long Rows, long Updated, int Values, long OriginalsRemaining, string Note);

/// <summary>One tier's anonymisation of a tenant, as committed (and journalled) on the tier.</summary>
public sealed record TierAnonymiseResult(string Operation, IReadOnlyList<AnonymisedColumnResult> Columns)
{
    public long OriginalsRemaining => Columns.Sum(c => c.OriginalsRemaining);
}

/// <summary>
/// Replaces a tenant's declared personal-data columns on one tier's primary with pseudonyms, in one transaction: read the
/// distinct originals of every column, map them (the pseudonymiser avoids every original of the kind, so none can
/// survive as another row's pseudonym), update through a temp map, then count from scratch the rows still holding any
/// original. Anything left rolls everything back. The commit writes the result to <c>controlplane.tenant_anonymisations</c>
/// under the operation's id, in the same transaction: a step repeated after a crash finds it and does not pseudonymise
/// pseudonyms (which would break joins with the tiers done once).
/// </summary>
public sealed class TenantAnonymiser(ILogger logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Columns of every tenant schema on the tier (for the catalog's checks and suggestions).</summary>
    public static async Task<IReadOnlyList<TenantColumn>> ColumnsAsync(ReplicaEndpoint primary, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(TenantPiiSql.TenantColumns, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var columns = new List<TenantColumn>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            columns.Add(new TenantColumn(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        return columns;
    }

    public async Task<TierAnonymiseResult> AnonymiseAsync(
        ReplicaEndpoint primary, string tenant, bool shared, string operation, IReadOnlyList<PiiTarget> targets, Pseudonymiser pseudonymiser, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(pseudonymiser);
        var schema = shared ? TenantSql.SharedSchema : TenantProvisioner.RoleOf(tenant);
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        await ExecuteAsync(connection, TenantPiiSql.CreateJournal, ct).ConfigureAwait(false);
        if (await AdminSql.ScalarAsync(connection, TenantPiiSql.JournalRead, ct, operation).ConfigureAwait(false) is string journalled)
        {
            logger.LogInformation("Tenant {Tenant} on {Tier}/{Replica}: anonymisation {Operation} was already committed; its journalled result stands",
                tenant, primary.Tier, primary.Name, operation);
            return JsonSerializer.Deserialize<TierAnonymiseResult>(journalled, Json)!;
        }

        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(connection, TenantPiiSql.CreateMap, ct).ConfigureAwait(false);
        await ExecuteAsync(connection, TenantPiiSql.CreateOriginals, ct).ConfigureAwait(false);
        // First every original of every column, so that no pseudonym of a kind can equal an original of that kind.
        var present = new List<(PiiTarget Target, string Type, List<string> Originals)>();
        var skipped = new List<AnonymisedColumnResult>();
        foreach (var target in targets)
        {
            if (await AdminSql.ScalarAsync(connection, TenantPiiSql.ColumnType, ct, schema, target.Table, target.Column).ConfigureAwait(false) is not string type)
            {
                skipped.Add(new AnonymisedColumnResult($"{schema}.{target.Table}", target.Column, target.Kind, 0, 0, 0, 0, "absent: the tenant has no such table or column"));
                continue;
            }
            var originals = await ReadFormattedAsync(connection, shared ? TenantPiiSql.SharedOriginals : TenantPiiSql.Originals, ct,
                shared ? [schema, target.Table, target.Column, tenant] : [schema, target.Table, target.Column]).ConfigureAwait(false);
            present.Add((target, type, originals));
        }
        var avoid = present.GroupBy(p => p.Target.Kind)
            .ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.SelectMany(p => p.Originals).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

        var done = new List<AnonymisedColumnResult>();
        foreach (var (target, type, originals) in present)
        {
            await ExecuteAsync(connection, TenantPiiSql.ClearMap, ct).ConfigureAwait(false);
            await using (var copy = await connection.BeginBinaryImportAsync(TenantPiiSql.CopyMap, ct).ConfigureAwait(false))
            {
                foreach (var original in originals)
                {
                    await copy.StartRowAsync(ct).ConfigureAwait(false);
                    await copy.WriteAsync(original, NpgsqlDbType.Text, ct).ConfigureAwait(false);
                    await copy.WriteAsync(pseudonymiser.Of(target.Kind, original, avoid[target.Kind]), NpgsqlDbType.Text, ct).ConfigureAwait(false);
                }
                await copy.CompleteAsync(ct).ConfigureAwait(false);
            }
            await AdminSql.ScalarAsync(connection, TenantPiiSql.KeepOriginals, ct, target.Kind).ConfigureAwait(false);
            var rows = await CountFormattedAsync(connection, shared ? TenantPiiSql.SharedCountRows : TenantPiiSql.CountRows, ct,
                shared ? [schema, target.Table, tenant] : [schema, target.Table]).ConfigureAwait(false);
            var updated = await ExecuteFormattedAsync(connection, shared ? TenantPiiSql.SharedUpdate : TenantPiiSql.Update, ct,
                shared ? [schema, target.Table, target.Column, type, tenant] : [schema, target.Table, target.Column, type]).ConfigureAwait(false);
            done.Add(new AnonymisedColumnResult($"{schema}.{target.Table}", target.Column, target.Kind, rows, updated, originals.Count, 0, ""));
        }

        // The verification, after every column was rewritten: any declared column still holding any replaced original of its kind.
        var verified = new List<AnonymisedColumnResult>();
        foreach (var (result, (target, _, _)) in done.Zip(present))
        {
            var remaining = await CountFormattedAsync(connection, shared ? TenantPiiSql.SharedRemaining : TenantPiiSql.Remaining, ct,
                shared ? [schema, target.Table, target.Column, target.Kind, tenant] : [schema, target.Table, target.Column, target.Kind]).ConfigureAwait(false);
            verified.Add(result with { OriginalsRemaining = remaining });
        }
        var tier = new TierAnonymiseResult(operation, [.. verified, .. skipped]);
        if (tier.OriginalsRemaining > 0)
        {
            await tx.RollbackAsync(ct).ConfigureAwait(false);
            throw new InvalidOperationException(
                $"anonymisation of tenant '{tenant}' on {primary.Tier}/{primary.Name} left {tier.OriginalsRemaining} original value(s) in "
                + string.Join(", ", verified.Where(v => v.OriginalsRemaining > 0).Select(v => $"{v.Table}.{v.Column}")) + "; rolled back, nothing changed.");
        }
        await AdminSql.ScalarAsync(connection, TenantPiiSql.JournalWrite, ct, operation, tenant, JsonSerializer.Serialize(tier, Json)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        logger.LogInformation("Anonymised tenant {Tenant} on {Tier}/{Replica} ({Operation}): {Columns} column(s), {Rows} row(s) updated, {Skipped} absent",
            tenant, primary.Tier, primary.Name, operation, verified.Count, verified.Sum(v => v.Updated), skipped.Count);
        return tier;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<string> RenderAsync(NpgsqlConnection connection, string formatSql, object[] args, CancellationToken ct) =>
        (string)(await AdminSql.ScalarAsync(connection, formatSql, ct, args).ConfigureAwait(false))!;

    private static async Task<int> ExecuteFormattedAsync(NpgsqlConnection connection, string formatSql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(await RenderAsync(connection, formatSql, args, ct).ConfigureAwait(false), connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<long> CountFormattedAsync(NpgsqlConnection connection, string formatSql, CancellationToken ct, params object[] args) =>
        Convert.ToInt64(await AdminSql.ScalarAsync(connection, await RenderAsync(connection, formatSql, args, ct).ConfigureAwait(false), ct).ConfigureAwait(false), CultureInfo.InvariantCulture);

    private static async Task<List<string>> ReadFormattedAsync(NpgsqlConnection connection, string formatSql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(await RenderAsync(connection, formatSql, args, ct).ConfigureAwait(false), connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var values = new List<string>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) values.Add(reader.GetString(0));
        return values;
    }
}
