namespace ControlPlane.Grains.Failover;

[GenerateSerializer, Alias("controlplane.OperationKind")]
public enum OperationKind
{
    Switchover = 0,
    Failover = 1,
    Pause = 2,
    Resume = 3,
}

[GenerateSerializer, Alias("controlplane.OperationState")]
public enum OperationState
{
    Pending = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
}

/// <summary>A step of an operation as it happened.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.OperationStep")]
public sealed record OperationStep([property: Id(0)] DateTimeOffset At, [property: Id(1)] string Message);

/// <summary>An operator command on a tier, from request to outcome. Its id is <c>&lt;tier&gt;.&lt;sequence&gt;</c>.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.OperationRecord")]
public sealed record OperationRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] OperationKind Kind,
    [property: Id(2)] string Environment,
    [property: Id(3)] string Tier,
    [property: Id(4)] string? Target,
    [property: Id(5)] bool AllowDataLoss,
    [property: Id(6)] string Principal,
    [property: Id(7)] OperationState State,
    [property: Id(8)] IReadOnlyList<OperationStep> Steps,
    [property: Id(9)] DateTimeOffset StartedAt,
    [property: Id(10)] DateTimeOffset? FinishedAt,
    [property: Id(11)] string Error,
    [property: Id(12)] long Term)
{
    public bool Finished => State is OperationState.Succeeded or OperationState.Failed;

    public OperationRecord Step(string message) => this with { Steps = [.. Steps, new OperationStep(DateTimeOffset.UtcNow, message)] };

    public static string IdOf(string tier, long sequence) => $"{tier}.{sequence}";

    /// <summary>Splits an operation id into its tier and sequence; false when it is not one.</summary>
    public static bool TryParseId(string? id, out string tier, out long sequence)
    {
        tier = "";
        sequence = 0;
        if (string.IsNullOrEmpty(id)) return false;
        var dot = id.LastIndexOf('.');
        if (dot <= 0 || !long.TryParse(id.AsSpan(dot + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sequence))
            return false;
        tier = id[..dot];
        return Fleet.FleetKeys.IsValidName(tier) && sequence > 0;
    }
}
