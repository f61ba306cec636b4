namespace ControlPlane.Grains.Parity;

/// <summary>The stored snapshots of one target. Key: <c>env/tier/database[/schema]</c> (<see cref="ParityTarget.Key"/>).</summary>
[Alias("controlplane.IParityHistoryGrain")]
public interface IParityHistoryGrain : IGrainWithStringKey
{
    /// <summary>Appends a snapshot (its canonical JSON and hash) taken by <paramref name="principal"/>.</summary>
    [Alias("Store")]
    Task<StoredSchemaSnapshot> Store(string json, string hash, int objects, string principal);

    /// <summary>Newest first: skips <paramref name="skip"/>, at most <paramref name="take"/>.</summary>
    [Alias("List"), AlwaysInterleave]
    Task<SchemaSnapshotPage> List(int skip, int take);

    /// <summary>Snapshot <paramref name="sequence"/> with its JSON; null when the history does not hold it (never taken, or dropped as the oldest).</summary>
    [Alias("Get"), AlwaysInterleave]
    Task<StoredSchemaContent?> Get(long sequence);
}

/// <summary>Schema parity of one tier: live reads on its primary and the scheduled drift check. Key: <c>env/tier</c>.</summary>
[Alias("controlplane.IParityGrain")]
public interface IParityGrain : IGrainWithStringKey
{
    /// <summary>Reads a schema (empty: every non-system schema) of a database (empty: the tier's) on the tier's primary now.</summary>
    [Alias("Read"), AlwaysInterleave]
    Task<ParityRead> Read(string database, string schema);

    /// <summary>Compares every tenant schema with the template now, stores the result and reports it to the alert engine.</summary>
    [Alias("Check")]
    Task<TierDriftReport> Check(bool scheduled);

    /// <summary>The last check; null before the first.</summary>
    [Alias("GetLast"), AlwaysInterleave]
    Task<TierDriftReport?> GetLast();

    /// <summary>Keeps the scheduled check running (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();
}
