namespace ControlPlane.Grains.Failover;

[GenerateSerializer, Alias("controlplane.DecisionKind")]
public enum DecisionKind
{
    AutomaticFailover = 0,
    ManualFailover = 1,
    Switchover = 2,
    /// <summary>A replica writable outside its term was fenced (and rejoined where the driver can).</summary>
    FenceRogue = 3,
    Pause = 4,
    Resume = 5,
    /// <summary>The policy saw a failed primary but would not act (blind, primary alive to standbys, no candidate).</summary>
    Alert = 6,
    /// <summary>synchronous_standby_names changed on the primary.</summary>
    SynchronousStandbys = 7,
    Settings = 8,
    /// <summary>A standby that stayed unreachable was restarted (rewound or rebuilt if needed) as a standby of the primary.</summary>
    HealStandby = 9,
    /// <summary>An instance carried a term above the tier's (a catalog restored from an old backup, or a decision the
    /// catalog never heard of while it was down): the tier adopted that term and its primary.</summary>
    TermReconciled = 10,
}

[GenerateSerializer, Alias("controlplane.DecisionOutcome")]
public enum DecisionOutcome
{
    /// <summary>Persisted, not yet carried out (a new activation finishes it).</summary>
    Decided = 0,
    Completed = 1,
    Failed = 2,
    /// <summary>Nothing to carry out: an alert or a setting.</summary>
    Recorded = 3,
}

/// <summary>One entry of a tier's decision log: what was decided, in which term, why, by whom, and what came of it.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.DecisionRecord")]
public sealed record DecisionRecord(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] DecisionKind Kind,
    [property: Id(3)] long Term,
    [property: Id(4)] string OldPrimary,
    [property: Id(5)] string NewPrimary,
    [property: Id(6)] string Reason,
    [property: Id(7)] IReadOnlyList<string> Evidence,
    [property: Id(8)] string Principal,
    [property: Id(9)] string? OperationId,
    [property: Id(10)] DecisionOutcome Outcome,
    [property: Id(11)] IReadOnlyList<string> Steps,
    [property: Id(12)] DateTimeOffset? CompletedAt);
