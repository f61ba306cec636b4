using ControlPlane.Postgres.Verify;

namespace ControlPlane.Grains.Verify;

[GenerateSerializer, Alias("controlplane.VerifyOutcome")]
public enum VerifyOutcome { Passed = 0, Failed = 1, Skipped = 2 }

/// <summary>What a verification runs with.</summary>
/// <param name="LoadDriver">auto (pgbench when installed, else built-in), pgbench or built-in.</param>
[GenerateSerializer, Immutable, Alias("controlplane.VerifyRequest")]
public sealed record VerifyRequest(
    [property: Id(0)] TimeSpan Load, [property: Id(1)] int LoadClients, [property: Id(2)] bool SkipSwitchover, [property: Id(3)] string LoadDriver = "auto")
{
    public static readonly IReadOnlyList<string> LoadDrivers = ["auto", "pgbench", "built-in"];

    public WriteLoadDriver Driver => LoadDriver switch
    {
        "pgbench" => WriteLoadDriver.Pgbench,
        "built-in" => WriteLoadDriver.BuiltIn,
        _ => WriteLoadDriver.Auto,
    };
}

/// <summary>One step of a verification: what it checked and found, and its measurements.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.VerifyStepResult")]
public sealed record VerifyStepResult(
    [property: Id(0)] string Name,
    [property: Id(1)] VerifyOutcome Outcome,
    [property: Id(2)] TimeSpan Duration,
    [property: Id(3)] string Detail,
    [property: Id(4)] IReadOnlyDictionary<string, double> Measurements);

[GenerateSerializer, Immutable, Alias("controlplane.VerifyReport")]
public sealed record VerifyReport(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] TimeSpan Duration,
    [property: Id(4)] IReadOnlyList<VerifyStepResult> Steps)
{
    public bool Passed => Steps.All(s => s.Outcome != VerifyOutcome.Failed);
}

/// <summary>A tier's release checks, run on request, the last result kept. Key: <c>env/tier</c>.</summary>
[Alias("controlplane.IVerifyGrain")]
public interface IVerifyGrain : IGrainWithStringKey
{
    /// <summary>Runs every step now and stores the report. One verification of a tier at a time.</summary>
    [Alias("Run"), ResponseTimeout("00:30:00")]
    Task<VerifyReport> Run(VerifyRequest request, string principal);

    [Alias("GetLast"), AlwaysInterleave]
    Task<VerifyReport?> GetLast();
}

[GenerateSerializer, Alias("controlplane.VerifyState")]
public sealed class VerifyState
{
    [Id(0)] public VerifyReport? Last { get; set; }
}
