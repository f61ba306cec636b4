using System.Diagnostics;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// The continuous WAL archive of one tier: a pg_receivewal streaming from the tier's primary into the repository's
/// WAL directory through a physical slot, flushing every write (<c>--synchronous</c>), supervised here. It is
/// started with <c>--no-loop</c> so that every reconnect goes through <see cref="RunOnceAsync"/>, which first
/// reconciles the archive with the server it is about to follow: after a failover the archive may hold the old
/// primary's WAL past the new primary's fork point, and pg_receivewal, which resumes from the newest segment it
/// finds, would ask the new server for WAL it refuses to send. Those files move to <c>wal/diverged/</c>; nothing
/// is deleted except by <see cref="DeleteBeforeAsync"/>.
/// </summary>
public sealed partial class WalArchiver(WalArchiverOptions options, ILogger logger, PgBinaries? binaries = null) : IAsyncDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(500);

    private readonly PgBinaries _bin = binaries ?? PgBinaries.Shared;
    private readonly SemaphoreSlim _gate = new(1, 1);
    // Mirroring and retention never overlap: a mirror pass that listed a segment before retention deleted it would
    // otherwise copy it back into the second repository afterwards.
    private readonly SemaphoreSlim _files = new(1, 1);
    private readonly Lock _sync = new();
    private ReplicationSource? _target;
    private CancellationTokenSource _retarget = new();
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private TaskCompletionSource _attempted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _server;
    private bool _running;
    private int _restarts;
    private DateTimeOffset? _startedAt;
    private string? _lastError;
    // How the previous run against a server ended: a gap is bridged only on that server's own word that WAL is gone.
    private (string Server, string Failure)? _previousRun;
    private bool _disposed;

    public string WalDirectory => options.Repository.WalDirectory;
    public string DivergedDirectory => Path.Combine(WalDirectory, WalRepositoryFiles.DivergedFolder);

    /// <summary>The running pg_receivewal's pid, so an orphan left by a killed silo is found and killed.</summary>
    public string PidFile => Path.Combine(options.Repository.TierDirectory, "pg_receivewal.pid");

    private string Tier => options.Repository.Tier;

    public WalArchiverStatus Status
    {
        get
        {
            var newest = WalRepositoryFiles.NewestSegment(WalDirectory, options.SegmentBytes);
            var gaps = Gaps;
            lock (_sync) return new WalArchiverStatus(_server, _running, _restarts, _startedAt, _lastError, newest) { Gaps = gaps };
        }
    }

    /// <summary>
    /// Archives from <paramref name="primary"/> from now on. Nothing happens when it already follows that server;
    /// otherwise the current pg_receivewal stops and one starts against the new server. Returns once that first
    /// attempt is running or has failed (see <see cref="Status"/>); failures are retried in the background with
    /// backoff until <see cref="StopAsync"/>.
    /// </summary>
    public async Task FollowAsync(ReplicationSource primary, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Task attempt;
            lock (_sync)
            {
                if (_loop is not null && primary == _target) return;
                _target = primary;
                _server = primary.Endpoint.Name;
                _attempted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                attempt = _attempted.Task;
                var previous = _retarget;
                _retarget = new CancellationTokenSource();
                // Ends the current run (or its backoff wait); the loop takes the new target at once.
                previous.Cancel();
            }
            if (_loop is null)
            {
                _stop = new CancellationTokenSource();
                var stop = _stop.Token;
                _loop = Task.Run(() => SuperviseAsync(stop), CancellationToken.None);
            }
            logger.LogInformation("WAL archiver of {Tier} now follows {Server} ({Host}:{Port})", Tier, primary.Endpoint.Name, primary.Endpoint.Host, primary.Endpoint.Port);
            await attempt.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops pg_receivewal (SIGINT, then SIGKILL) and the supervision; FollowAsync starts again.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_loop is null) return;
            await _stop!.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            _stop.Dispose();
            (_stop, _loop) = (null, null);
            lock (_sync) _target = null;
            File.Delete(PassFile);
            logger.LogInformation("WAL archiver of {Tier} stopped", Tier);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _disposed = true;
        _retarget.Dispose();
        _gate.Dispose();
    }

    /// <summary>Where the followed primary's WAL is against what the archiver reported flushed (pg_stat_replication).</summary>
    public async Task<ArchiveSample> SampleAsync(CancellationToken ct)
    {
        ReplicationSource target;
        lock (_sync) target = _target ?? throw new InvalidOperationException($"The WAL archiver of tier '{Tier}' follows no primary; call FollowAsync first.");
        await using var connection = await AdminSql.OpenAsync(target.Endpoint, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(SampleSql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        cmd.Parameters.Add(new NpgsqlParameter { Value = options.ApplicationName });
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        return new ArchiveSample(
            DateTimeOffset.UtcNow,
            Lsn.Parse(reader.GetString(0)).Value,
            reader.IsDBNull(2) ? null : Lsn.Parse(reader.GetString(2)).Value,
            reader.IsDBNull(3) ? null : reader.GetFieldValue<TimeSpan>(3),
            reader.GetInt32(1));
    }

    /// <summary>
    /// Copies to the mirror's WAL directory every complete segment and history file it lacks, and the current
    /// .partial when it changed (temporary name, fsync, rename). Returns the number of files copied; 0 without a mirror.
    /// </summary>
    public async Task<int> MirrorAsync(CancellationToken ct)
    {
        if (options.Mirror is not { } mirror) return 0;
        await _files.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await WalRepositoryFiles.MirrorAsync(WalDirectory, mirror.WalDirectory, options.SegmentBytes, logger, ct).ConfigureAwait(false);
        }
        finally
        {
            _files.Release();
        }
    }

    /// <summary>
    /// Retention, in both repositories: deletes the segments (any timeline, complete or .partial) of every segment
    /// before the one holding <paramref name="lsn"/>, as pg_archivecleanup does. History files always stay. Files in
    /// <c>diverged/</c> older than that segment go too: they lie before anything a kept backup can restore, so they
    /// have nothing left to explain. The newest segment of a directory is never deleted (pg_receivewal resumes from it).
    /// </summary>
    public async Task<WalCleanup> DeleteBeforeAsync(ulong lsn, CancellationToken ct)
    {
        var cutoff = WalSegments.SegmentOf(lsn, options.SegmentBytes);
        var total = new WalCleanup(0, 0);
        TierRepository[] repositories = options.Mirror is null ? [options.Repository] : [options.Repository, options.Mirror];
        await _files.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var repository in repositories)
            {
                var done = WalRepositoryFiles.DeleteBefore(repository.WalDirectory, cutoff, options.SegmentBytes,
                    keepNewest: ReferenceEquals(repository, options.Repository));
                total = new WalCleanup(total.Files + done.Files, total.Bytes + done.Bytes);
            }
        }
        finally
        {
            _files.Release();
        }
        var forgotten = 0;
        foreach (var repository in repositories) forgotten += await WalGapLog.PruneBeforeAsync(repository, WalSegments.StartOf(cutoff, options.SegmentBytes), ct).ConfigureAwait(false);
        if (forgotten > 0)
        {
            lock (_sync) _gaps = null;
            logger.LogInformation("WAL retention of {Tier}: forgot {Count} gap record(s) wholly before the retained WAL", Tier, forgotten);
        }
        logger.LogInformation("WAL retention of {Tier}: deleted {Files} files ({Bytes} bytes) before segment {Segment} (LSN {Lsn})",
            Tier, total.Files, total.Bytes, WalSegments.FileName(1, cutoff, options.SegmentBytes)[8..], new Lsn(lsn));
        return total;
    }

    private async Task SuperviseAsync(CancellationToken stop)
    {
        var backoff = FirstBackoff;
        while (!stop.IsCancellationRequested)
        {
            ReplicationSource target;
            CancellationToken retarget;
            TaskCompletionSource attempted;
            string? lastFailure;
            lock (_sync)
            {
                (target, retarget, attempted) = (_target!, _retarget.Token, _attempted);
                lastFailure = _previousRun is { } previous && previous.Server == target.Endpoint.Name ? previous.Failure : null;
            }
            using var run = CancellationTokenSource.CreateLinkedTokenSource(stop, retarget);
            var began = Stopwatch.GetTimestamp();
            string failure;
            try
            {
                failure = await RunOnceAsync(target, lastFailure, () => MarkRunning(attempted), run.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (run.IsCancellationRequested)
            {
                failure = "";
            }
            catch (Exception e)
            {
                // A supervisor outlives any one failure: whatever ended the run is recorded (Status) and retried.
                failure = $"{e.GetType().Name}: {e.Message}";
            }
            finally
            {
                lock (_sync) _running = false;
                attempted.TrySetResult();
            }
            // Stopped or pointed elsewhere: not a failure, and the next server is tried at once.
            if (run.IsCancellationRequested)
            {
                lock (_sync) _previousRun = null;
                backoff = FirstBackoff;
                continue;
            }
            lock (_sync) (_restarts, _lastError, _previousRun) = (_restarts + 1, failure, (target.Endpoint.Name, failure));
            if (Stopwatch.GetElapsedTime(began) > options.MaxBackoff) backoff = FirstBackoff;
            logger.LogWarning("WAL archiver of {Tier} (from {Server}) ended: {Failure}; restarting in {Backoff} ms",
                Tier, target.Endpoint.Name, failure, (int)backoff.TotalMilliseconds);
            try { await Task.Delay(backoff < options.MaxBackoff ? backoff : options.MaxBackoff, run.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
        }
    }

    private void MarkRunning(TaskCompletionSource attempted)
    {
        lock (_sync) (_running, _startedAt) = (true, DateTimeOffset.UtcNow);
        attempted.TrySetResult();
    }

    // The flush position pg_receivewal reported; NULL when it is not connected.
    private const string SampleSql = """
        SELECT pg_current_wal_lsn()::text,
               ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int,
               r.flush_lsn::text,
               r.flush_lag
          FROM (SELECT 1) AS one
          LEFT JOIN LATERAL (SELECT flush_lsn, flush_lag FROM pg_stat_replication
                              WHERE application_name = $1 ORDER BY flush_lsn DESC NULLS LAST LIMIT 1) AS r ON true
        """;
}
