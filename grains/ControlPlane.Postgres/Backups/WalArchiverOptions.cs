namespace ControlPlane.Postgres.Backups;

/// <summary>Where and how one tier's WAL is archived.</summary>
/// <param name="Repository">The repository pg_receivewal writes into (its <see cref="TierRepository.WalDirectory"/>).</param>
/// <param name="Mirror">A second repository (another region) that <see cref="WalArchiver.MirrorAsync"/> copies to.</param>
public sealed record WalArchiverOptions(TierRepository Repository, TierRepository? Mirror = null)
{
    /// <summary>The physical slot on the primary, created before every start (a new primary after a failover has none).</summary>
    public string SlotName { get; init; } = "controlplane_archive";

    /// <summary>How the archiver shows in the primary's <c>pg_stat_replication</c>.</summary>
    public string ApplicationName { get; init; } = "controlplane_archive";

    /// <summary>Longest wait between restarts of a failing pg_receivewal (the first wait is 500 ms, doubling).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The tier's WAL segment size (initdb --wal-segsize); checked against the server before every start.</summary>
    public long SegmentBytes { get; init; } = WalSegments.DefaultSegmentBytes;
}

/// <summary>What a retention pass removed from the WAL repositories.</summary>
public sealed record WalCleanup(int Files, long Bytes);
