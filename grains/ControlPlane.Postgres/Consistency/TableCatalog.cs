using Npgsql;

namespace ControlPlane.Postgres.Consistency;

/// <summary>The tables a check may compare, read from the primary's catalog inside its check session.</summary>
internal static class TableCatalog
{
    public static async Task<IReadOnlyList<TableShape>> ListAsync(CheckSession session, CancellationToken ct)
    {
        return await session.ReadAsync(ConsistencySql.Tables, r => new TableShape(
            r.GetString(0), r.GetString(1), r.GetString(2),
            r.GetBoolean(4) ? r.GetString(3) : null, r.GetBoolean(5), r.GetInt64(6)), ct).ConfigureAwait(false);
    }
}

/// <summary>SHARE locks on the compared tables, taken so that no writer is ever made a deadlock victim.</summary>
internal static class TableLocks
{
    /// <summary>
    /// Locks every table in SHARE mode inside the open transaction of <paramref name="locker"/>. Each LOCK waits less
    /// than half the server's <c>deadlock_timeout</c>: a writer that queued behind us and holds a table we need would
    /// run its deadlock check only after we stopped waiting, so we are the side that gives up (roll back to the
    /// savepoint, pause, start over), never the writer.
    /// </summary>
    public static async Task ShareAsync(NpgsqlConnection locker, IReadOnlyList<TableShape> shapes, TimeSpan timeout, int attempts, CancellationToken ct)
    {
        long deadlockMs;
        await using (var cmd = new NpgsqlCommand(ConsistencySql.DeadlockTimeoutMs, locker)) deadlockMs = (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        var each = Math.Max(1, Math.Min(deadlockMs / 2, (long)timeout.TotalMilliseconds));
        var deadline = DateTime.UtcNow + timeout;
        for (var attempt = 1; ; attempt++)
        {
            await ExecuteAsync(locker, "SAVEPOINT lock_tables", ct).ConfigureAwait(false);
            string? busy = null;
            foreach (var shape in shapes)
            {
                try
                {
                    await ExecuteAsync(locker, ConsistencySql.LockShare(shape.Name, each), ct).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.DeadlockDetected)
                {
                    busy = shape.Display;
                    break;
                }
            }
            if (busy is null) return;
            await ExecuteAsync(locker, "ROLLBACK TO SAVEPOINT lock_tables", ct).ConfigureAwait(false);
            if (attempt >= attempts || DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"could not lock table {busy} in SHARE mode on the primary within {timeout.TotalSeconds:0.#} s " +
                    $"({attempt} attempts): a long transaction writing to it, or DDL waiting for one, holds it. Nothing was compared.");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
