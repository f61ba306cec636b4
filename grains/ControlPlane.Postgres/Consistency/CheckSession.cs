using System.Data;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Consistency;

/// <summary>
/// One replica's session of a check: a REPEATABLE READ, read-only transaction whose snapshot every digest of the check
/// reads. A session that fails (a standby cancelling our query on a recovery conflict, say) keeps its error and takes
/// no further part.
/// </summary>
internal sealed class CheckSession : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly int _commandTimeout;
    private NpgsqlTransaction? _transaction;

    private CheckSession(string replica, NpgsqlConnection connection, int commandTimeout) =>
        (Replica, _connection, _commandTimeout) = (replica, connection, commandTimeout);

    public string Replica { get; }
    public string Error { get; private set; } = "";
    public bool Failed => Error.Length > 0;

    public static async Task<CheckSession> OpenAsync(ComparedReplica replica, int commandTimeout, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(replica.Endpoint))
        {
            ApplicationName = "controlplane-consistency",
            CommandTimeout = commandTimeout,
        };
        var connection = await AdminSql.OpenAsync(builder.ConnectionString, ct).ConfigureAwait(false);
        var session = new CheckSession(replica.Name, connection, commandTimeout);
        await session.ExecuteAsync(ConsistencySql.SessionSettings, ct).ConfigureAwait(false);
        return session;
    }

    /// <summary>Starts the snapshot: its first query (<paramref name="firstQuery"/>, returning text) takes it.</summary>
    public async Task<string> BeginAsync(string firstQuery, CancellationToken ct)
    {
        _transaction = await _connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        await ExecuteAsync("SET TRANSACTION READ ONLY", ct).ConfigureAwait(false);
        return (string)(await ScalarAsync(firstQuery, ct).ConfigureAwait(false))!;
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, _connection, _transaction) { CommandTimeout = _commandTimeout };
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    public async Task ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, _connection, _transaction) { CommandTimeout = _commandTimeout };
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> row, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, _connection, _transaction) { CommandTimeout = _commandTimeout };
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(row(reader));
        return rows;
    }

    /// <summary>The min and max of <paramref name="key"/>; null when the table is empty.</summary>
    public async Task<(long Min, long Max)?> KeyBoundsAsync(string table, string key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ConsistencySql.KeyBounds(table, key), _connection, _transaction) { CommandTimeout = _commandTimeout };
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        return reader.IsDBNull(0) ? null : (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The digest of the rows of <paramref name="table"/> in <paramref name="range"/>; null once this session has failed.</summary>
    public async Task<RowDigest?> DigestAsync(string table, string? key, KeyRange range, CancellationToken ct)
    {
        if (Failed) return null;
        try
        {
            await using var cmd = new NpgsqlCommand(ConsistencySql.Digest(table, key, range), _connection, _transaction) { CommandTimeout = _commandTimeout };
            if (key is not null && (range.From is not null || range.To is not null))
            {
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = range.From ?? 0 });
                cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = range.To ?? 0 });
            }
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            return new RowDigest(reader.GetInt64(0), RowDigest.ReduceSum(reader.GetString(1)));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            Error = $"reading {table} failed: {e.Message}";
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the session ends its transaction (read-only: nothing to commit).
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
