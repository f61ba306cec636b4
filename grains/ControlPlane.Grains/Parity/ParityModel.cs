namespace ControlPlane.Grains.Parity;

/// <summary>One stored snapshot of a target: its place in the history, when, its hash and who took it.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.StoredSchemaSnapshot")]
public sealed record StoredSchemaSnapshot(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset TakenAt,
    [property: Id(2)] string Hash,
    [property: Id(3)] string Principal,
    [property: Id(4)] int Objects,
    [property: Id(5)] bool Changed);

/// <summary>
/// A target's history. The canonical JSON is kept once per distinct hash: a schema snapshotted a hundred times
/// unchanged costs one copy, and "when did this change" is the first entry of each hash.
/// </summary>
[GenerateSerializer, Alias("controlplane.ParityHistoryState")]
public sealed class ParityHistoryState
{
    [Id(0)] public List<StoredSchemaSnapshot> Snapshots { get; set; } = [];
    [Id(1)] public Dictionary<string, string> Contents { get; set; } = new(StringComparer.Ordinal);
    [Id(2)] public long LastSequence { get; set; }
}

/// <summary>A page of a target's history, newest first.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.SchemaSnapshotPage")]
public sealed record SchemaSnapshotPage([property: Id(0)] IReadOnlyList<StoredSchemaSnapshot> Snapshots, [property: Id(1)] long Total);

/// <summary>A stored snapshot with its canonical JSON.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.StoredSchemaContent")]
public sealed record StoredSchemaContent([property: Id(0)] StoredSchemaSnapshot Snapshot, [property: Id(1)] string Json);

/// <summary>Why a live read did not produce a snapshot.</summary>
public enum ParityReadFailure
{
    None = 0,
    DatabaseNotFound = 1,
    SchemaNotFound = 2,
    Unavailable = 3,
}

/// <summary>A live read of a target: the canonical JSON, or why there is none (no exception crosses the grain call).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ParityRead")]
public sealed record ParityRead(
    [property: Id(0)] string Json,
    [property: Id(1)] ParityReadFailure Failure,
    [property: Id(2)] string Error,
    [property: Id(3)] string Database);

/// <summary>One tenant schema compared with the tier's template.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.SchemaDriftResult")]
public sealed record SchemaDriftResult(
    [property: Id(0)] string Schema,
    [property: Id(1)] int Differences,
    [property: Id(2)] IReadOnlyList<string> Summary,
    [property: Id(3)] string Error);

/// <summary>A tier's drift check: each tenant schema against the template schema of the tier's database.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierDriftReport")]
public sealed record TierDriftReport(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] DateTimeOffset CheckedAt,
    [property: Id(3)] string Template,
    [property: Id(4)] bool TemplateFound,
    [property: Id(5)] string TemplateHash,
    [property: Id(6)] IReadOnlyList<SchemaDriftResult> Schemas,
    [property: Id(7)] string Error,
    [property: Id(8)] bool Scheduled)
{
    public bool Drift => Schemas.Any(s => s.Differences > 0);
}

/// <summary>The parity grain's state: the last drift check and the label sets it has alerted on (so a fixed schema resolves).</summary>
[GenerateSerializer, Alias("controlplane.ParityState")]
public sealed class ParityState
{
    [Id(0)] public TierDriftReport? Last { get; set; }
    [Id(1)] public List<Dictionary<string, string>> Alerted { get; set; } = [];
}
