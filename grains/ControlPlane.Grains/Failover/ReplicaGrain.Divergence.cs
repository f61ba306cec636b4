using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Failover;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// An old primary's divergent WAL report (issue 21 mode 8, docs/failover.md#divergent-old-primary): the driver saves
/// the WAL past the fork on the host, then hands the report here before it rewinds; it is persisted in the replica's
/// state (the catalog) and raises <c>DivergentWalSaved</c> before the rewind runs. A rejoin redone after a crash
/// hands the same report again and replaces it.
/// </summary>
public sealed partial class ReplicaGrain
{
    /// <summary>Reports kept per replica, newest last.</summary>
    public const int DivergencesKept = 20;

    public Task<IReadOnlyList<DivergenceRecord>> GetDivergences() =>
        Task.FromResult<IReadOnlyList<DivergenceRecord>>(state.State.Divergences.ToList());

    /// <summary>The rejoin's callback: runs the recording on this activation's scheduler (the driver continues off it).</summary>
    private Func<DivergentWal, CancellationToken, Task> DivergenceRecorder(ReplicaSpec spec, long term)
    {
        var scheduler = TaskScheduler.Current;
        return (wal, ct) => Task.Factory.StartNew(() => RecordDivergenceAsync(spec, DivergenceRecord.From(wal, term)), ct, TaskCreationOptions.None, scheduler).Unwrap();
    }

    private async Task RecordDivergenceAsync(ReplicaSpec spec, DivergenceRecord record)
    {
        var list = state.State.Divergences;
        list.RemoveAll(record.SameDivergence);
        list.Add(record);
        if (list.Count > DivergencesKept) list.RemoveRange(0, list.Count - DivergencesKept);
        // Deferred while the catalog is unreachable: the report.json beside the saved WAL is the copy that always exists.
        await Catalog.WriteAsync();
        logger.LogWarning("Replica {Environment}/{Tier}/{Replica} held divergent WAL {Range} on timeline {Timeline} ({Bytes} bytes, {Transactions} transactions, {Committed} committed) " +
            "that {Primary} never received; saved to {Directory} before the rewind (term {Term})",
            spec.Environment, spec.Tier, spec.Name, record.Range, record.Timeline, record.Bytes, record.Transactions.Count, record.Committed,
            record.NewPrimary, record.Directory, record.Term);
        await ReportReadingsQuietlyAsync(spec, [FailureModeReadings.Divergence(spec.Environment, spec.Tier, record, DateTimeOffset.UtcNow)]);
    }
}
