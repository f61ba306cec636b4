using System.Diagnostics;
using System.Globalization;
using ControlPlane.Migrations.History;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Changes;

/// <summary>One version to run on a target: its checksum (what the history records) and its statements, in order.</summary>
public sealed record ScriptRun(long Version, string FileName, string Checksum, bool Transactional, IReadOnlyList<string> Statements);

/// <summary>Per-statement limits: how long a statement may wait for a lock, and run.</summary>
public sealed record ApplyLimits(TimeSpan LockTimeout, TimeSpan StatementTimeout);

/// <summary>A statement of a version failed on a target: which one and PostgreSQL's message. Nothing of the version stays
/// applied when it is transactional.</summary>
public sealed class ChangeStatementException(string schema, long version, int statement, string sql, string error, Exception inner)
    : Exception($"target {schema}, version {version}, statement {statement + 1}: {error}", inner)
{
    public string Schema { get; } = schema;
    public long Version { get; } = version;
    public int StatementIndex { get; } = statement;
    public string Statement { get; } = sql;
    public string Error { get; } = error;
}

/// <summary>
/// Applies (and undoes) versions on one target schema of a tier's primary. A transactional version runs in one
/// transaction under a transaction-scoped advisory lock on the target, with lock_timeout and statement_timeout set, and
/// writes its history row in that same transaction after checking the row is absent: a version can never be applied
/// twice, whoever races. A no-transaction version (CREATE INDEX CONCURRENTLY) runs under a session advisory lock and
/// records its row after its statements; such a file must be idempotent (IF NOT EXISTS), since a crash between its
/// last statement and the row runs it again.
/// </summary>
public sealed class ChangeApplier : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _schema;
    private readonly Rendered _sql;

    private ChangeApplier(NpgsqlConnection connection, string schema, Rendered sql)
    {
        _connection = connection;
        _schema = schema;
        _sql = sql;
    }

    /// <summary>Connects to <paramref name="primary"/> for <paramref name="schema"/>; creates nothing yet.</summary>
    public static async Task<ChangeApplier> OpenAsync(ReplicaEndpoint primary, string schema, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentException.ThrowIfNullOrEmpty(schema);
        var connection = await AdminSql.OpenAsync(AdminSql.ConnectionString(primary, pooling: true), ct).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand(ChangeSql.Render, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
            cmd.Parameters.Add(new NpgsqlParameter { Value = schema });
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            var sql = new Rendered(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetBoolean(6));
            return new ChangeApplier(connection, schema, sql);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The target's history; empty when it has none yet.</summary>
    public async Task<IReadOnlyList<AppliedMigration>> HistoryAsync(CancellationToken ct)
    {
        if (!_sql.HistoryExists) return [];
        var rows = new List<AppliedMigration>();
        await using var cmd = new NpgsqlCommand(_sql.SelectHistory, _connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(new AppliedMigration(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.GetString(3), TimeSpan.FromMilliseconds(reader.GetInt64(4)), reader.GetString(5)));
        }
        return rows;
    }

    /// <summary>Applies one version; false when the history already records it (nothing was run).</summary>
    public async Task<bool> ApplyAsync(ScriptRun run, string changeId, string principal, ApplyLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(limits);
        await EnsureHistoryAsync(limits, ct).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        return await LockedAsync(run.Transactional, limits, async tx =>
        {
            if (await ScalarAsync(_sql.SelectVersion, tx, ct, run.Version).ConfigureAwait(false) is string) return false;
            await RunStatementsAsync(run, limits, tx, ct).ConfigureAwait(false);
            await ExecuteAsync(_sql.InsertHistory, tx, ct, run.Version, run.Checksum, principal, (long)clock.Elapsed.TotalMilliseconds, changeId).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Runs the undo of <paramref name="version"/> and removes its row; false when the history does not record it.</summary>
    public async Task<bool> UndoAsync(long version, ScriptRun undo, ApplyLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(undo);
        if (!_sql.HistoryExists) return false;
        return await LockedAsync(undo.Transactional, limits, async tx =>
        {
            if (await ScalarAsync(_sql.SelectVersion, tx, ct, version).ConfigureAwait(false) is not string) return false;
            await RunStatementsAsync(undo, limits, tx, ct).ConfigureAwait(false);
            await ExecuteAsync(_sql.DeleteHistory, tx, ct, version).ConfigureAwait(false);
            return true;
        }, ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    private async Task EnsureHistoryAsync(ApplyLimits limits, CancellationToken ct)
    {
        if (_sql.HistoryExists) return;
        // Two targets' first applies race on CREATE SCHEMA IF NOT EXISTS (a unique violation in pg_namespace): one
        // global advisory key serialises the one-time creation.
        await using var tx = await _connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(ChangeSql.SetLocal, tx, ct, Setting(limits.LockTimeout), Setting(limits.StatementTimeout), _schema).ConfigureAwait(false);
        await ExecuteAsync(ChangeSql.XactLock, tx, ct, ChangeSql.LockClass, ChangeSql.HistorySchema).ConfigureAwait(false);
        await ExecuteAsync(ChangeSql.CreateHistorySchema, tx, ct).ConfigureAwait(false);
        await ExecuteAsync(ChangeSql.RevokeHistorySchema, tx, ct).ConfigureAwait(false);
        await ExecuteAsync(_sql.CreateSchema, tx, ct).ConfigureAwait(false);
        await ExecuteAsync(_sql.CreateHistory, tx, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        _sql.HistoryExists = true;
    }

    private async Task<bool> LockedAsync(bool transactional, ApplyLimits limits, Func<NpgsqlTransaction?, Task<bool>> body, CancellationToken ct)
    {
        var lockTimeout = Setting(limits.LockTimeout);
        var statementTimeout = Setting(limits.StatementTimeout);
        if (transactional)
        {
            await using var tx = await _connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await ExecuteAsync(ChangeSql.SetLocal, tx, ct, lockTimeout, statementTimeout, _schema).ConfigureAwait(false);
            await ExecuteAsync(ChangeSql.XactLock, tx, ct, ChangeSql.LockClass, _schema).ConfigureAwait(false);
            var done = await body(tx).ConfigureAwait(false);
            if (done) await tx.CommitAsync(ct).ConfigureAwait(false);
            else await tx.RollbackAsync(ct).ConfigureAwait(false);
            return done;
        }
        await ExecuteAsync(ChangeSql.SetSession, null, ct, lockTimeout, statementTimeout, _schema).ConfigureAwait(false);
        await ExecuteAsync(ChangeSql.SessionLock, null, ct, ChangeSql.LockClass, _schema).ConfigureAwait(false);
        try
        {
            return await body(null).ConfigureAwait(false);
        }
        finally
        {
            // A failed statement leaves the session usable (autocommit), so the unlock runs; a broken connection
            // releases the lock with the session.
            if (_connection.State == System.Data.ConnectionState.Open)
                await ExecuteAsync(ChangeSql.SessionUnlock, null, CancellationToken.None, ChangeSql.LockClass, _schema).ConfigureAwait(false);
        }
    }

    private async Task RunStatementsAsync(ScriptRun run, ApplyLimits limits, NpgsqlTransaction? tx, CancellationToken ct)
    {
        var timeout = (int)Math.Ceiling(limits.StatementTimeout.TotalSeconds) + AdminSql.CommandTimeoutSeconds;
        for (var i = 0; i < run.Statements.Count; i++)
        {
            try
            {
                await using var cmd = new NpgsqlCommand(run.Statements[i], _connection, tx) { CommandTimeout = timeout };
                await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            catch (PostgresException e)
            {
                throw new ChangeStatementException(_schema, run.Version, i, run.Statements[i], $"{e.SqlState}: {e.MessageText}", e);
            }
        }
    }

    private async Task<object?> ScalarAsync(string sql, NpgsqlTransaction? tx, CancellationToken ct, params object[] args)
    {
        await using var cmd = Command(sql, tx, args);
        var value = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    private async Task ExecuteAsync(string sql, NpgsqlTransaction? tx, CancellationToken ct, params object[] args)
    {
        await using var cmd = Command(sql, tx, args);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private NpgsqlCommand Command(string sql, NpgsqlTransaction? tx, object[] args)
    {
        var cmd = new NpgsqlCommand(sql, _connection, tx) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return cmd;
    }

    private static string Setting(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";

    private sealed record Rendered(string CreateSchema, string CreateHistory, string SelectHistory, string SelectVersion,
        string InsertHistory, string DeleteHistory, bool HistoryExists)
    {
        public bool HistoryExists { get; set; } = HistoryExists;
    }
}
