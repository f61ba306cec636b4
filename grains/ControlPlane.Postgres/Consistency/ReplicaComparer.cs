using System.Diagnostics;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Consistency;

/// <summary>
/// Compares a tier's standbys with its primary, table by table, at one WAL location.
/// <para>
/// Why every replica sees the same rows. A <em>locker</em> session on the primary takes SHARE locks on the compared
/// tables: that waits for every transaction that wrote to them and keeps new writers out. The primary's check session
/// then starts its REPEATABLE READ snapshot and reads the WAL insert location L: every commit to the tables lies
/// before L. Each standby is waited for until it has replayed L, then starts its own snapshot; nothing can commit to
/// the tables on any replica until the locker lets go, which it does as soon as every snapshot exists, so writers
/// wait only for the standbys' replay of L. The digests are computed afterwards, at leisure, inside those snapshots.
/// </para>
/// <para>
/// A digest is the row count and the sum modulo 2^64 of <c>hashtextextended</c> of each row's text form
/// (<see cref="RowDigest"/>): independent of scan order. Tables whose primary key starts with an integer column are
/// compared in key-range chunks (<see cref="ChunkPlan"/>); a chunk that differs is cut again, inside the same
/// snapshots, until the difference is narrowed down to single keys or small ranges.
/// </para>
/// </summary>
public static class ReplicaComparer
{
    private const int LockAttempts = 5;

    /// <summary>
    /// Compares <paramref name="tables"/> (every permanent user table of the primary's database when empty).
    /// </summary>
    /// <exception cref="ArgumentException">A requested table does not exist on the primary.</exception>
    /// <exception cref="TimeoutException">The tables could not be locked within the lock timeout.</exception>
    public static async Task<ReplicaComparison> CompareAsync(
        ComparedReplica primary, IReadOnlyList<ComparedReplica> standbys, IReadOnlyList<string> tables, ComparisonOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(standbys);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        var sessions = new List<CheckSession>();
        try
        {
            var primarySession = await CheckSession.OpenAsync(primary, options.CommandTimeoutSeconds, ct).ConfigureAwait(false);
            sessions.Add(primarySession);
            var shapes = Select(await TableCatalog.ListAsync(primarySession, ct).ConfigureAwait(false), tables);
            var (lsn, replays) = await SnapshotAllAsync(primary, primarySession, standbys, shapes, options, sessions, ct).ConfigureAwait(false);
            var standbySessions = sessions.Skip(1).ToList();
            var checks = new List<TableCheck>();
            long rows = 0;
            foreach (var shape in shapes)
            {
                var check = await TableComparison.RunAsync(shape, primarySession, standbySessions, options, ct).ConfigureAwait(false);
                rows += check.Primary.Rows + check.Standbys.Sum(s => s.Digest.Rows);
                checks.Add(check);
            }
            // A standby whose session failed during the digests took no further part: say so.
            var final = replays.Select(r => standbySessions.FirstOrDefault(s => s.Replica == r.Replica) is { Failed: true } failed
                ? r with { Error = failed.Error } : r).ToList();
            return new ReplicaComparison(lsn.ToString(), final, checks, rows);
        }
        finally
        {
            foreach (var session in sessions) await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The requested tables (all when none), by <c>schema.table</c> or by a table name unique in the database.</summary>
    internal static IReadOnlyList<TableShape> Select(IReadOnlyList<TableShape> all, IReadOnlyList<string> requested)
    {
        if (requested.Count == 0) return all;
        var chosen = new List<TableShape>();
        foreach (var name in requested.Distinct(StringComparer.Ordinal))
        {
            var matches = all.Where(t => t.Display == name || t.Name == name).ToList();
            if (matches.Count == 0) matches = all.Where(t => t.Relation == name).ToList();
            if (matches.Count == 1) chosen.Add(matches[0]);
            else if (matches.Count == 0)
                throw new ArgumentException($"table '{name}' is not a permanent user table of the tier's database; expected one of: {string.Join(", ", all.Take(20).Select(t => t.Display))}{(all.Count > 20 ? ", ..." : "")}.", nameof(requested));
            else
                throw new ArgumentException($"table '{name}' is ambiguous; name its schema: {string.Join(", ", matches.Select(t => t.Display))}.", nameof(requested));
        }
        return chosen;
    }

    /// <summary>Locks the tables, starts the primary's snapshot at the insert LSN, waits for each standby and starts its snapshot, lets writers go.</summary>
    private static async Task<(Lsn Lsn, List<StandbyReplay> Replays)> SnapshotAllAsync(
        ComparedReplica primary, CheckSession primarySession, IReadOnlyList<ComparedReplica> standbys, IReadOnlyList<TableShape> shapes,
        ComparisonOptions options, List<CheckSession> sessions, CancellationToken ct)
    {
        await using var locker = await AdminSql.OpenAsync(primary.Endpoint, ct).ConfigureAwait(false);
        await using var lockTx = await locker.BeginTransactionAsync(ct).ConfigureAwait(false);
        await TableLocks.ShareAsync(locker, shapes, options.LockTimeout, LockAttempts, ct).ConfigureAwait(false);
        var lsn = Lsn.Parse(await primarySession.BeginAsync(ConsistencySql.InsertLsn, ct).ConfigureAwait(false));
        var waits = standbys.Select(s => StandbySnapshotAsync(s, lsn, options, ct)).ToList();
        var replays = new List<StandbyReplay>();
        foreach (var wait in waits)
        {
            var (session, replay) = await wait.ConfigureAwait(false);
            if (session is not null) sessions.Add(session);
            replays.Add(replay);
        }
        await lockTx.RollbackAsync(ct).ConfigureAwait(false);
        return (lsn, replays);
    }

    /// <summary>Waits (bounded) until <paramref name="standby"/> has replayed <paramref name="lsn"/>, then starts its snapshot.</summary>
    private static async Task<(CheckSession? Session, StandbyReplay Replay)> StandbySnapshotAsync(
        ComparedReplica standby, Lsn lsn, ComparisonOptions options, CancellationToken ct)
    {
        CheckSession? session = null;
        string? replayed = null;
        try
        {
            session = await CheckSession.OpenAsync(standby, options.CommandTimeoutSeconds, ct).ConfigureAwait(false);
            if (!(bool)(await session.ScalarAsync(ConsistencySql.InRecovery, ct).ConfigureAwait(false))!)
                return await FailAsync(session, new StandbyReplay(standby.Name, null, "is not in recovery (not a standby): the tier's topology changed during the check")).ConfigureAwait(false);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                replayed = await session.ScalarAsync(ConsistencySql.ReplayLsn, ct).ConfigureAwait(false) as string;
                if (replayed is not null && Lsn.Parse(replayed) >= lsn) break;
                if (clock.Elapsed >= options.ReplayTimeout)
                {
                    return await FailAsync(session, new StandbyReplay(standby.Name, replayed,
                        $"replayed only up to {replayed ?? "nothing"} after {options.ReplayTimeout.TotalSeconds:0.#} s; the check needs {lsn} (lagging or not streaming)")).ConfigureAwait(false);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
            }
            var at = await session.BeginAsync(ConsistencySql.ReplayLsn, ct).ConfigureAwait(false);
            return (session, new StandbyReplay(standby.Name, at, ""));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
        {
            var replay = new StandbyReplay(standby.Name, replayed, $"unreachable: {e.Message}");
            return session is null ? (null, replay) : await FailAsync(session, replay).ConfigureAwait(false);
        }
    }

    private static async Task<(CheckSession? Session, StandbyReplay Replay)> FailAsync(CheckSession session, StandbyReplay replay)
    {
        await session.DisposeAsync().ConfigureAwait(false);
        return (null, replay);
    }
}
