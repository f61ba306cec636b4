using ControlPlane.Grains.Security;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Silo.Security;

/// <summary>A stored audit event.</summary>
internal sealed record AuditRecord(
    long Id, DateTimeOffset At, string Principal, string Source, string Rpc, string Target, string Arguments,
    string Outcome, string Status, string Detail, string OperationId);

/// <summary>What <see cref="CatalogAuditLog.ListAsync"/> filters on; empty strings and nulls mean "any".</summary>
internal sealed record AuditQuery(
    DateTimeOffset? Since, DateTimeOffset? Until, string Principal, string Target, string Outcome, int Limit, long BeforeId);

/// <summary>The audit log in the catalog (controlplane_audit): insert and read, nothing else; a trigger refuses the rest.</summary>
internal sealed class CatalogAuditLog(SecurityCatalog catalog) : IAuditLog
{
    private const string InsertSql = """
        INSERT INTO controlplane_audit (principal, source, rpc, target, arguments, outcome, status, detail, operation_id)
        VALUES (@principal, @source, @rpc, @target, @arguments, @outcome, @status, @detail, @operation_id)
        """;

    private const string ListSql = """
        SELECT id, at, principal, source, rpc, target, arguments, outcome, status, detail, operation_id
          FROM controlplane_audit
         WHERE (@since IS NULL OR at >= @since)
           AND (@until IS NULL OR at < @until)
           AND (@principal = '' OR principal = @principal)
           AND (@target = '' OR target = @target OR (right(@target, 1) = '/' AND starts_with(target, @target)))
           AND (@outcome = '' OR outcome = @outcome)
           AND (@before = 0 OR id < @before)
         ORDER BY id DESC
         LIMIT @limit
        """;

    public async Task AppendAsync(AuditEntry entry, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var command = catalog.DataSource.CreateCommand(InsertSql);
        command.CommandTimeout = SecurityCatalog.AuditTimeoutSeconds;
        command.Parameters.AddWithValue("principal", AuditText.Clean(entry.Principal, 200));
        command.Parameters.AddWithValue("source", AuditText.Clean(entry.Source, 200));
        command.Parameters.AddWithValue("rpc", AuditText.Clean(entry.Rpc, 200));
        command.Parameters.AddWithValue("target", AuditText.Clean(entry.Target, 400));
        command.Parameters.AddWithValue("arguments", AuditText.Clean(entry.Arguments, AuditText.MaxArgumentsLength + 16));
        command.Parameters.AddWithValue("outcome", entry.Outcome);
        command.Parameters.AddWithValue("status", AuditText.Clean(entry.Status, 64));
        command.Parameters.AddWithValue("detail", AuditText.Clean(entry.Detail, 1000));
        command.Parameters.AddWithValue("operation_id", entry.OperationId.Length > 0 ? AuditText.Clean(entry.OperationId, 64) : NewOperationId());
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyList<AuditRecord>> ListAsync(AuditQuery query, CancellationToken ct)
    {
        await using var command = catalog.DataSource.CreateCommand(ListSql);
        command.CommandTimeout = SecurityCatalog.LookupTimeoutSeconds * 2;
        command.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.TimestampTz) { Value = query.Since is { } s ? s.UtcDateTime : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("until", NpgsqlDbType.TimestampTz) { Value = query.Until is { } u ? u.UtcDateTime : DBNull.Value });
        command.Parameters.AddWithValue("principal", query.Principal);
        command.Parameters.AddWithValue("target", query.Target);
        command.Parameters.AddWithValue("outcome", query.Outcome);
        command.Parameters.AddWithValue("before", query.BeforeId);
        command.Parameters.AddWithValue("limit", query.Limit);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var events = new List<AuditRecord>();
        while (await reader.ReadAsync(ct))
        {
            events.Add(new AuditRecord(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetString(10)));
        }
        return events;
    }

    public static string NewOperationId() => Guid.NewGuid().ToString("N")[..16];
}
