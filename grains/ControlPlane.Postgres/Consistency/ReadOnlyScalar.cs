using System.Data;
using System.Globalization;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Consistency;

/// <summary>
/// An operator's query (one side of a cross-tier pair, a tier's smoke query) run in a read-only REPEATABLE READ
/// transaction on one replica; the first column of the first row is its value, as text (no row reads as empty).
/// </summary>
public static class ReadOnlyScalar
{
    public static async Task<string> ReadAsync(ReplicaEndpoint endpoint, string sql, int timeoutSeconds, string applicationName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var builder = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(endpoint))
        {
            ApplicationName = applicationName,
            CommandTimeout = timeoutSeconds,
        };
        await using var connection = await AdminSql.OpenAsync(builder.ConnectionString, ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, tx)) await readOnly.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        // The query is the operator's own configuration, run read-only: running it is the point.
        await using var cmd = new NpgsqlCommand(sql, connection, tx) { CommandTimeout = timeoutSeconds };
        var value = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is null or DBNull ? "" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
    }
}
