using System.Data;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// Row counts that are exactly the state at a named restore point, while writes are blocked only for milliseconds.
/// <para>
/// Why the counts are exact. Per database a <em>locker</em> (REPEATABLE READ) takes SHARE locks on the counted
/// tables: that waits until every transaction that wrote to them has ended, and keeps new writers out. LOCK takes
/// no snapshot, so the snapshot the locker then exports (its first query takes it) holds every commit to those
/// tables, and nothing commits to them while the locks are held. The restore point is written while every
/// database's locks are held, so in WAL each commit touching the tables lies before it, or after the locks were
/// released, which is after it. An <em>importer</em> per database adopts the exported snapshot before the lockers
/// commit, and counts after the writers have been let go.
/// </para>
/// <para>
/// The importer takes ACCESS SHARE locks (LOCK takes no snapshot, so it may precede SET TRANSACTION SNAPSHOT)
/// before the lockers lock: a TRUNCATE or DROP cannot then pull the rows out from under the count, and it takes
/// them while nothing of ours yet blocks anyone, so it cannot queue behind DDL that waits for our own locker.
/// </para>
/// <para>
/// No writer is ever made a deadlock victim: see <see cref="DatabaseHold"/> for how the locks are taken.
/// </para>
/// </summary>
public static partial class ConsistentCounts
{
    private const int Attempts = 3;
    // pg_create_restore_point accepts names shorter than MAXFNAMELEN (64).
    private const int MaxRestorePointName = 63;
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Counts the <paramref name="tablesPerDatabase"/> largest user tables of every connectable database of
    /// <paramref name="primary"/> as they are at a new restore point <paramref name="restorePointName"/>.
    /// </summary>
    /// <exception cref="TimeoutException">The tables could not be locked within <paramref name="lockTimeout"/> in any attempt; no restore point was created.</exception>
    public static async Task<ConsistentCountsResult> CaptureAsync(
        ReplicaEndpoint primary, string restorePointName, int tablesPerDatabase, TimeSpan lockTimeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentException.ThrowIfNullOrEmpty(restorePointName);
        if (restorePointName.Length > MaxRestorePointName)
        {
            throw new ArgumentException($"Restore point name '{restorePointName}' is {restorePointName.Length} characters; PostgreSQL allows at most {MaxRestorePointName}.", nameof(restorePointName));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tablesPerDatabase);
        ArgumentOutOfRangeException.ThrowIfLessThan(lockTimeout, TimeSpan.FromMilliseconds(1));

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CaptureOnceAsync(primary, restorePointName, tablesPerDatabase, lockTimeout, ct).ConfigureAwait(false);
            }
            catch (LockFailedException e)
            {
                if (attempt >= Attempts)
                {
                    throw new TimeoutException(
                        $"Could not lock the counted tables of database '{e.Database}' on {primary.Tier}/{primary.Name} within "
                        + $"{lockTimeout.TotalMilliseconds:0} ms in {Attempts} attempts (last: {e.Reason}); a long transaction writing "
                        + $"to them, or DDL waiting for one, holds them. No restore point '{restorePointName}' was created.", e);
                }
                await Task.Delay(RetryPause, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Counts <paramref name="tables"/> on <paramref name="instance"/> (a restore, say), one snapshot per database.
    /// A table, or a whole database, that does not exist there counts -1. Results keep the input order.
    /// </summary>
    public static async Task<IReadOnlyList<TableCount>> CountAsync(ReplicaEndpoint instance, IEnumerable<TableCount> tables, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(tables);
        var wanted = tables.ToList();
        var found = new TableCount[wanted.Count];
        foreach (var database in wanted.Select(t => t.Database).Distinct(StringComparer.Ordinal))
        {
            var indexes = Enumerable.Range(0, wanted.Count).Where(i => wanted[i].Database == database).ToList();
            NpgsqlConnection connection;
            try
            {
                connection = await AdminSql.OpenAsync(AdminSql.ConnectionString(instance, database), ct).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
            {
                foreach (var i in indexes) found[i] = wanted[i] with { Rows = -1 };
                continue;
            }
            await using (connection.ConfigureAwait(false))
            await using (var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false))
            {
                foreach (var i in indexes)
                {
                    found[i] = wanted[i] with { Rows = await TableSql.CountAsync(connection, wanted[i].Table, ct).ConfigureAwait(false) };
                }
                await tx.CommitAsync(ct).ConfigureAwait(false);
            }
        }
        return found;
    }

    private static async Task<ConsistentCountsResult> CaptureOnceAsync(
        ReplicaEndpoint primary, string restorePointName, int tablesPerDatabase, TimeSpan lockTimeout, CancellationToken ct)
    {
        var holds = new List<DatabaseHold>();
        var admin = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        await using (admin.ConfigureAwait(false))
        {
            try
            {
                // Everything slow (connecting, finding the tables) happens before anything is locked.
                foreach (var database in await TableSql.ListAsync(admin, TableSql.ConnectableDatabases, ct).ConfigureAwait(false))
                {
                    if (await DatabaseHold.OpenAsync(primary, database, tablesPerDatabase, ct).ConfigureAwait(false) is { } hold) holds.Add(hold);
                }
                var deadline = new LockDeadline(lockTimeout);
                foreach (var hold in holds) await hold.LockForCountingAsync(deadline, ct).ConfigureAwait(false);
                // From here until the lockers commit, writers to the counted tables wait.
                foreach (var hold in holds) await hold.LockWritersOutAsync(deadline, ct).ConfigureAwait(false);
                var lsn = Lsn.Parse((string)(await AdminSql.ScalarAsync(admin, "SELECT pg_create_restore_point($1)::text", ct, restorePointName).ConfigureAwait(false))!);
                foreach (var hold in holds) await hold.ImportSnapshotAsync(ct).ConfigureAwait(false);
                foreach (var hold in holds) await hold.LetWritersGoAsync(ct).ConfigureAwait(false);

                var counts = new List<TableCount>();
                foreach (var hold in holds) counts.AddRange(await hold.CountAsync(ct).ConfigureAwait(false));
                return new ConsistentCountsResult(restorePointName, lsn.Value, counts);
            }
            finally
            {
                foreach (var hold in holds) await hold.DisposeAsync().ConfigureAwait(false);
            }
        }
    }}
