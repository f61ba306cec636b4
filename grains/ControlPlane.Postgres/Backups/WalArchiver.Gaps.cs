using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// The archiver's slot kept reserving WAL, and the one unrecoverable case handled instead of retried forever: the
/// server removed WAL the archive never received (a slot lost to max_slot_wal_keep_size, a new primary that recycled
/// its old standby WAL before the archive followed it). The gap is recorded (<see cref="WalGapLog"/>) before the
/// archive resumes at the oldest WAL the server still holds; restores refuse to cross it and the backup grain takes a
/// new base backup.
/// </summary>
public sealed partial class WalArchiver
{
    private const string SlotSql = "SELECT restart_lsn::text, wal_status, active FROM pg_replication_slots WHERE slot_name = $1";
    private const string DropSlotSql = "SELECT pg_drop_replication_slot($1)";
    private const string CreateReservedSlotSql = "SELECT lsn::text FROM pg_create_physical_replication_slot($1, true)";

    private IReadOnlyList<WalGap>? _gaps;

    /// <summary>The gaps recorded in this repository, oldest first.</summary>
    public IReadOnlyList<WalGap> Gaps
    {
        get
        {
            lock (_sync)
            {
                if (_gaps is not null) return _gaps;
                try
                {
                    return _gaps = WalGapLog.Read(options.Repository);
                }
                catch (InvalidDataException ex)
                {
                    // The archive's status must stay readable (RPO, restarts); restores read the record themselves and refuse.
                    logger.LogError("{Error}", ex.Message);
                    return [];
                }
            }
        }
    }

    /// <summary>
    /// Before a run: the slot exists and reserves WAL (created reserving at once, so WAL written before pg_receivewal
    /// connects is kept too). After a run that ended on removed WAL, or with the slot lost: a lost or never-reserving
    /// slot is recreated reserving, and when the archive ends before the oldest WAL the server keeps, the gap is
    /// recorded and an empty .partial of that segment makes pg_receivewal resume there.
    /// </summary>
    private async Task BridgeGapAsync(ReplicaEndpoint server, SourceTimeline source, string? lastFailure, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(server, ct).ConfigureAwait(false);
        var slot = await ReadSlotAsync(connection, ct).ConfigureAwait(false);
        if (slot is null)
        {
            var created = await AdminSql.ScalarAsync(connection, CreateReservedSlotSql, ct, options.SlotName).ConfigureAwait(false);
            logger.LogInformation("Created the WAL archiver's slot {Slot} on {Server}, reserving WAL from {Lsn}", options.SlotName, server.Name, created);
            if (!WalGaps.IsRemovedWal(lastFailure)) return;
            slot = await ReadSlotAsync(connection, ct).ConfigureAwait(false);
            if (slot is null) return;
        }
        var lost = slot.Value.WalStatus == "lost";
        if (!lost && !WalGaps.IsRemovedWal(lastFailure)) return;
        if (slot.Value.Active)
        {
            logger.LogWarning("The WAL archiver's slot {Slot} on {Server} is lost or behind removed WAL but still held by a session; retrying", options.SlotName, server.Name);
            return;
        }
        var reserved = slot.Value.RestartLsn;
        if (reserved is null || lost) reserved = await RecreateSlotAsync(connection, server, lost ? "lost" : "not reserving", ct).ConfigureAwait(false);
        var files = Directory.EnumerateFiles(WalDirectory).ToList();
        var lastWrite = files.Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.UtcNow).Max();
        var plan = WalGaps.Plan(files.Select(f => Path.GetFileName(f)), source, server.Name, reserved.Value,
            new DateTimeOffset(lastWrite, TimeSpan.Zero), DateTimeOffset.UtcNow, options.SegmentBytes);
        if (plan is null && !lost && WalGaps.IsRemovedWal(lastFailure))
        {
            // The server said the WAL the archive needs next is gone, yet the slot claims to keep it: a receiver's
            // feedback moves a physical slot's restart_lsn to the position it asked for, even back to removed WAL.
            // Such a slot no longer says where the server's WAL begins; recreated reserving, it does.
            reserved = await RecreateSlotAsync(connection, server, $"at {reserved}, behind WAL the server removed", ct).ConfigureAwait(false);
            plan = WalGaps.Plan(files.Select(f => Path.GetFileName(f)), source, server.Name, reserved.Value,
                new DateTimeOffset(lastWrite, TimeSpan.Zero), DateTimeOffset.UtcNow, options.SegmentBytes);
        }
        if (plan is null) return;
        // Recorded before the archive moves past it: a restore must never learn of a gap after streaming resumed.
        await WalGapLog.AppendAsync(options.Repository, plan.Gap, ct).ConfigureAwait(false);
        if (options.Mirror is { } mirror) await WalGapLog.AppendAsync(mirror, plan.Gap, ct).ConfigureAwait(false);
        lock (_sync) _gaps = null;
        await WalRepositoryFiles.CreateEmptyAsync(Path.Combine(WalDirectory, plan.ResumeMarker), ct).ConfigureAwait(false);
        logger.LogError("The WAL archive of {Tier} has a gap: {Gap}. Point-in-time restore across it is impossible; archiving resumes at {Marker}",
            Tier, plan.Gap, plan.ResumeMarker);
    }

    /// <summary>Drops the archiver's slot and creates it again reserving WAL from now; returns where it reserves from.</summary>
    private async Task<Lsn> RecreateSlotAsync(NpgsqlConnection connection, ReplicaEndpoint server, string was, CancellationToken ct)
    {
        await AdminSql.ScalarAsync(connection, DropSlotSql, ct, options.SlotName).ConfigureAwait(false);
        var reserved = Lsn.Parse((string)(await AdminSql.ScalarAsync(connection, CreateReservedSlotSql, ct, options.SlotName).ConfigureAwait(false))!);
        logger.LogWarning("Recreated the WAL archiver's slot {Slot} on {Server} (it was {State}), reserving WAL from {Lsn}",
            options.SlotName, server.Name, was, reserved);
        return reserved;
    }

    private async Task<(Lsn? RestartLsn, string? WalStatus, bool Active)?> ReadSlotAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(SlotSql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        cmd.Parameters.Add(new NpgsqlParameter { Value = options.SlotName });
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        return (reader.IsDBNull(0) ? null : Lsn.Parse(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetBoolean(2));
    }
}
