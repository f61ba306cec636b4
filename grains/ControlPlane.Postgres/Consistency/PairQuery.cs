using System.Data;
using System.Globalization;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Consistency;

/// <summary>
/// One side of a cross-tier pair: an operator's query, run in a read-only transaction on a tier's primary, whose
/// first column of the first row is the value compared (as text; no row reads as empty).
/// </summary>
public static class PairQuery
{
    public static async Task<string> ReadAsync(ReplicaEndpoint endpoint, string sql, int timeoutSeconds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var builder = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(endpoint))
        {
            ApplicationName = "controlplane-consistency",
            CommandTimeout = timeoutSeconds,
        };
        await using var connection = await AdminSql.OpenAsync(builder.ConnectionString, ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, tx)) await readOnly.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        // The query is the operator's own configuration, run read-only: it is the point of the pair.
        await using var cmd = new NpgsqlCommand(sql, connection, tx) { CommandTimeout = timeoutSeconds };
        var value = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is null or DBNull ? "" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
    }
}
