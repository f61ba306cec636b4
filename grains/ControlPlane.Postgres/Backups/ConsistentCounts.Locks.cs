using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Backups;

public static partial class ConsistentCounts
{
    private const string DeadlockTimeoutMs = "SELECT setting::bigint FROM pg_settings WHERE name = 'deadlock_timeout'";

    [GeneratedRegex("^[0-9A-F]+-[0-9A-F]+-[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex SnapshotId();

    /// <summary>When one capture attempt stops waiting for locks.</summary>
    private sealed class LockDeadline(TimeSpan lockTimeout)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public TimeSpan Now => _clock.Elapsed;
        public TimeSpan Left => lockTimeout - _clock.Elapsed;
    }

    /// <summary>A lock on one database's tables was not granted (or a table vanished since it was listed); worth another attempt.</summary>
    private sealed class LockFailedException(string database, string reason, PostgresException? inner = null)
        : Exception($"locking the tables of database '{database}' failed: {reason}", inner)
    {
        public string Database { get; } = database;
        public string Reason { get; } = reason;
    }

    /// <summary>
    /// One database's locker and importer sessions and the tables they cover.
    /// <para>
    /// Locks are taken one table at a time, and no wait while holding any of them lasts past half the server's
    /// <c>deadlock_timeout</c> counted from the round's first request. A writer that waits for us queued behind a lock
    /// we hold or requested in this round, so it runs its one deadlock check after that: by then we have stopped
    /// waiting. Should it hold a table we need (a deadlock), we are the side that gives up: we let go of everything
    /// and start a new round with that busy table first, waiting for it while holding nothing (no cycle can run
    /// through us). One LOCK statement for all tables would let a writer in a multi-table transaction lose a
    /// deadlock to the capture; the test under concurrent writers showed it.
    /// </para>
    /// </summary>
    private sealed class DatabaseHold : IAsyncDisposable
    {
        private readonly string _database;
        private readonly List<string> _tables;
        private readonly TimeSpan _holdingWait;
        private readonly NpgsqlConnection _locker;
        private readonly NpgsqlConnection _importer;
        private NpgsqlTransaction? _lockerTx;
        private NpgsqlTransaction? _importerTx;
        private string? _snapshot;

        private DatabaseHold(string database, List<string> tables, TimeSpan deadlockTimeout, NpgsqlConnection locker, NpgsqlConnection importer)
        {
            (_database, _tables, _locker, _importer) = (database, tables, locker, importer);
            _holdingWait = deadlockTimeout / 2;
        }

        /// <summary>Both sessions for <paramref name="database"/>, or null when it has no user tables (or was just dropped).</summary>
        public static async Task<DatabaseHold?> OpenAsync(ReplicaEndpoint primary, string database, int limit, CancellationToken ct)
        {
            var connectionString = AdminSql.ConnectionString(primary, database);
            NpgsqlConnection locker;
            try
            {
                locker = await AdminSql.OpenAsync(connectionString, ct).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
            {
                return null;
            }
            try
            {
                var tables = await TableSql.ListAsync(locker, TableSql.LargestTables, ct, limit).ConfigureAwait(false);
                if (tables.Count == 0)
                {
                    await locker.DisposeAsync().ConfigureAwait(false);
                    return null;
                }
                var deadlockMs = (long)(await AdminSql.ScalarAsync(locker, DeadlockTimeoutMs, ct).ConfigureAwait(false))!;
                var importer = await AdminSql.OpenAsync(connectionString, ct).ConfigureAwait(false);
                return new DatabaseHold(database, tables, TimeSpan.FromMilliseconds(deadlockMs), locker, importer);
            }
            catch
            {
                await locker.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task LockForCountingAsync(LockDeadline deadline, CancellationToken ct)
        {
            _importerTx = await _importer.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
            await AcquireAsync(_importer, "ACCESS SHARE", deadline, ct).ConfigureAwait(false);
        }

        public async Task LockWritersOutAsync(LockDeadline deadline, CancellationToken ct)
        {
            _lockerTx = await _locker.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
            await AcquireAsync(_locker, "SHARE", deadline, ct).ConfigureAwait(false);
            var id = (string)(await AdminSql.ScalarAsync(_locker, "SELECT pg_export_snapshot()", ct).ConfigureAwait(false))!;
            // The id is spliced into SET TRANSACTION SNAPSHOT (it takes no parameter); it must look like one.
            _snapshot = SnapshotId().IsMatch(id) ? id : throw new InvalidDataException($"pg_export_snapshot returned '{id}', not a snapshot id.");
        }

        public Task ImportSnapshotAsync(CancellationToken ct) =>
            TableSql.ExecuteAsync(_importer, $"SET TRANSACTION SNAPSHOT '{_snapshot}'", ct);

        public Task LetWritersGoAsync(CancellationToken ct) => _lockerTx!.CommitAsync(ct);

        public async Task<List<TableCount>> CountAsync(CancellationToken ct)
        {
            var counts = await TableSql.CountAllAsync(_importer, _database, _tables, ct).ConfigureAwait(false);
            await _importerTx!.CommitAsync(ct).ConfigureAwait(false);
            return counts;
        }

        public async ValueTask DisposeAsync()
        {
            // Closing a session rolls its transaction back and releases its locks.
            await _locker.DisposeAsync().ConfigureAwait(false);
            await _importer.DisposeAsync().ConfigureAwait(false);
        }

        /// <summary>Locks every table in <paramref name="mode"/> (see the class summary). None of these statements takes a snapshot.</summary>
        private async Task AcquireAsync(NpgsqlConnection connection, string mode, LockDeadline deadline, CancellationToken ct)
        {
            var order = new List<string>(_tables);
            var held = 0;
            var roundStart = deadline.Now;
            await TableSql.ExecuteAsync(connection, "SAVEPOINT acquire", ct).ConfigureAwait(false);
            while (held < order.Count)
            {
                var wait = held == 0 ? deadline.Left : Min(deadline.Left, roundStart + _holdingWait - deadline.Now);
                if (wait <= TimeSpan.Zero && held == 0)
                {
                    throw new LockFailedException(_database, $"{order[0]} stayed busy until the lock timeout");
                }
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        // The table names were quoted by the server (format %I); the timeout is our own number.
                        await TableSql.ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture,
                            $"SET LOCAL lock_timeout = '{Math.Ceiling(wait.TotalMilliseconds):0}ms'; LOCK TABLE {order[held]} IN {mode} MODE"), ct).ConfigureAwait(false);
                        held++;
                        continue;
                    }
                    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable && held > 0)
                    {
                    }
                    catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.LockNotAvailable
                                                          or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.UndefinedTable)
                    {
                        throw new LockFailedException(_database, e.MessageText, e);
                    }
                }
                // This round holds locks and may wait no longer: let go of all, then wait for the busy table first.
                await TableSql.ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT acquire", ct).ConfigureAwait(false);
                var busy = order[held];
                order.RemoveAt(held);
                order.Insert(0, busy);
                held = 0;
                roundStart = deadline.Now;
            }
            // Back in the top-level transaction, where pg_export_snapshot and SET TRANSACTION SNAPSHOT must run.
            await TableSql.ExecuteAsync(connection, "RELEASE SAVEPOINT acquire", ct).ConfigureAwait(false);
        }

        private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }
}
