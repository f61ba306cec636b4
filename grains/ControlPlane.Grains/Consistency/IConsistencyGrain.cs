namespace ControlPlane.Grains.Consistency;

/// <summary>Replica consistency of one tier: on request and on schedule, with the last report. Key: <c>env/tier</c>.</summary>
[Alias("controlplane.IConsistencyGrain")]
public interface IConsistencyGrain : IGrainWithStringKey
{
    /// <summary>
    /// Compares every standby with the primary now (<paramref name="tables"/>, or the configured/all tables when
    /// empty). ArgumentException for an unknown table; InvalidOperationException when the check cannot run (no primary,
    /// tables busy). A whole-tier check (no tables named) becomes the last report and feeds the alert.
    /// </summary>
    // A big table takes minutes to read on every replica; the default 30 s would fail the caller of a running check.
    [Alias("Check"), ResponseTimeout("00:30:00")]
    Task<ConsistencyReport> Check(IReadOnlyList<string> tables);

    /// <summary>The last stored report, null before the first.</summary>
    [Alias("GetLast"), AlwaysInterleave]
    Task<ConsistencyReport?> GetLast();

    /// <summary>Keeps the scheduled check running (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();
}

/// <summary>Persistent part of the consistency grain: the last report and the alert label sets it reported as breached.</summary>
[GenerateSerializer, Alias("controlplane.ConsistencyState")]
public sealed class ConsistencyState
{
    [Id(0)] public ConsistencyReport? Last { get; set; }
    [Id(1)] public List<Dictionary<string, string>> Alerted { get; set; } = [];
}
