namespace ControlPlane.Grains.Upgrades;

/// <summary>Which upgrade methods a target major allows on this host, and why not (a serializable <see cref="MethodVerdict"/>).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.UpgradeMethodOption")]
public sealed record UpgradeMethodOption(
    [property: Id(0)] UpgradeMethod Method,
    [property: Id(1)] bool Possible,
    [property: Id(2)] string Reason);

/// <summary>A PostgreSQL installation found on the silo's host and the methods it allows as a target of the tier.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.UpgradeTarget")]
public sealed record UpgradeTarget(
    [property: Id(0)] int Major,
    [property: Id(1)] string BinDirectory,
    [property: Id(2)] string Origin,
    [property: Id(3)] IReadOnlyList<string> Tools,
    [property: Id(4)] IReadOnlyList<UpgradeMethodOption> Methods);

/// <summary>
/// Major-upgrade rehearsals of one tier (key <c>env/tier</c>), on scratch instances restored from its newest verified
/// backup; the live tier is never touched. One at a time per tier; a start answers at once, the rehearsal runs on.
/// </summary>
[Alias("controlplane.IUpgradeRehearsalGrain")]
public interface IUpgradeRehearsalGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts a rehearsal. <see cref="ArgumentException"/> for a bad method or version; <see cref="Failover.TierConflictException"/>
    /// when the method is not possible here (no binaries, target not newer, no pg_upgrade), no verified backup exists,
    /// or a rehearsal runs.
    /// </summary>
    [Alias("Rehearse")]
    Task<UpgradeRehearsal> Rehearse(int targetMajor, UpgradeMethod method, string principal);

    [Alias("Get"), AlwaysInterleave]
    Task<UpgradeRehearsal?> Get(string rehearsalId);

    /// <summary>The newest <paramref name="limit"/> rehearsals, newest last.</summary>
    [Alias("List"), AlwaysInterleave]
    Task<IReadOnlyList<UpgradeRehearsal>> List(int limit);

    /// <summary>The tier's major version and every installation newer than it, with the methods each allows.</summary>
    [Alias("ListTargets"), AlwaysInterleave]
    Task<(int SourceMajor, IReadOnlyList<UpgradeTarget> Targets)> ListTargets();
}
