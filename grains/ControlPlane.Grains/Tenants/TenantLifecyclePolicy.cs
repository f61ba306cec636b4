namespace ControlPlane.Grains.Tenants;

/// <summary>Why a command was not accepted.</summary>
public enum TenantRefusal
{
    None = 0,

    /// <summary>The tenant does not exist (never registered).</summary>
    NotFound = 1,

    /// <summary>Register of a tenant that exists and is not erased.</summary>
    Exists = 2,

    /// <summary>The command makes no sense in the tenant's state (resume an erased tenant, suspend during an erase).</summary>
    Illegal = 3,
}

/// <summary>
/// What to do with a command: refuse it, nothing (already there, or the same operation is under way and continues), or
/// start an operation that puts the tenant in <see cref="Transient"/> at once and in <see cref="Target"/> after its steps.
/// </summary>
public sealed record TenantDecision(
    TenantRefusal Refusal,
    string Reason,
    bool NoChange,
    TenantLifecycle Transient,
    TenantLifecycle Target,
    IReadOnlyList<TenantStep> Steps)
{
    public bool Allowed => Refusal == TenantRefusal.None;

    public static TenantDecision Refuse(TenantRefusal refusal, string reason) => new(refusal, reason, false, default, default, []);

    public static TenantDecision Nothing(TenantLifecycle state, string reason) => new(TenantRefusal.None, reason, true, state, state, []);
}

/// <summary>
/// The tenant lifecycle as a pure function: the state (null: never registered), the operation under way, a command, the
/// tenant's placements and plan tiers → a decision with its steps. The grain persists the decision, then runs the steps.
/// Order matters and is fixed here: a tenant leaves the pools' index before its leases are revoked, its role is locked
/// (and its sessions ended) before anything is dropped, and the index learns the final state last.
/// </summary>
public static class TenantLifecyclePolicy
{
    public static TenantDecision Decide(
        TenantLifecycle? state,
        TenantOperation? running,
        TenantCommand command,
        IReadOnlyList<string> placementTiers,
        IReadOnlyList<string> planTiers)
    {
        ArgumentNullException.ThrowIfNull(placementTiers);
        ArgumentNullException.ThrowIfNull(planTiers);
        if (state is null)
        {
            return command == TenantCommand.Register
                ? Start(TenantLifecycle.Registering, TenantLifecycle.Active, RegisterSteps(placementTiers, planTiers))
                : TenantDecision.Refuse(TenantRefusal.NotFound, "the tenant is not registered");
        }
        var current = state.Value;
        if (running is { Done: false })
        {
            if (running.Command == command) return TenantDecision.Nothing(current, $"{Word(command)} is already under way (step {running.Next + 1} of {running.Steps.Count}); it continues");
            // A registration that cannot finish (a tier down, a bad template) must still be erasable.
            if (!(command == TenantCommand.Erase && running.Command == TenantCommand.Register))
            {
                return TenantDecision.Refuse(TenantRefusal.Illegal,
                    $"the tenant is {Word(current)}: {Word(running.Command)} is under way (step {running.Next + 1} of {running.Steps.Count}); wait for it to finish");
            }
        }
        return (command, current) switch
        {
            (TenantCommand.Register, TenantLifecycle.Erased) => Start(TenantLifecycle.Registering, TenantLifecycle.Active, RegisterSteps(placementTiers, planTiers)),
            (TenantCommand.Register, _) => TenantDecision.Refuse(TenantRefusal.Exists, $"the tenant is already registered ({Word(current)})"),
            (TenantCommand.Suspend, TenantLifecycle.Active) => Start(TenantLifecycle.Suspended, TenantLifecycle.Suspended, SuspendSteps(placementTiers, planTiers)),
            (TenantCommand.Suspend, TenantLifecycle.Suspended) => TenantDecision.Nothing(current, "the tenant is already suspended"),
            (TenantCommand.Resume, TenantLifecycle.Suspended) => Start(TenantLifecycle.Suspended, TenantLifecycle.Active, ResumeSteps(placementTiers, planTiers)),
            (TenantCommand.Resume, TenantLifecycle.Active) => TenantDecision.Nothing(current, "the tenant is already active"),
            (TenantCommand.Erase, TenantLifecycle.Active or TenantLifecycle.Suspended or TenantLifecycle.Registering) =>
                Start(TenantLifecycle.Erasing, TenantLifecycle.Erased, EraseSteps(placementTiers, planTiers)),
            (TenantCommand.Erase, TenantLifecycle.Erased) => TenantDecision.Refuse(TenantRefusal.Illegal, "the tenant is already erased"),
            // Anonymising changes rows, not the lifecycle: the tenant stays as it was, and an erase waits for it.
            (TenantCommand.Anonymise, TenantLifecycle.Active or TenantLifecycle.Suspended) => Start(current, current, AnonymiseSteps(placementTiers)),
            _ => TenantDecision.Refuse(TenantRefusal.Illegal, $"cannot {Word(command)} a tenant that is {Word(current)}"),
        };
    }

    /// <summary>The states a command can lead to from <paramref name="state"/> (for docs and tests).</summary>
    public static bool IsTerminal(TenantLifecycle state) => state == TenantLifecycle.Erased;

    public static string Word(TenantLifecycle state) => state.ToString().ToLowerInvariant();

    public static string Word(TenantCommand command) => command.ToString().ToLowerInvariant();

    private static TenantDecision Start(TenantLifecycle transient, TenantLifecycle target, IReadOnlyList<TenantStep> steps) =>
        new(TenantRefusal.None, "", false, transient, target, steps);

    private static List<TenantStep> RegisterSteps(IReadOnlyList<string> placements, IReadOnlyList<string> plans) =>
    [
        .. placements.Select(t => new TenantStep(TenantStepKind.Provision, t)),
        new(TenantStepKind.Index),
        .. plans.Select(t => new TenantStep(TenantStepKind.Pools, t)),
        new(TenantStepKind.Finish),
    ];

    private static List<TenantStep> SuspendSteps(IReadOnlyList<string> placements, IReadOnlyList<string> plans) =>
    [
        new(TenantStepKind.Index),
        .. plans.Select(t => new TenantStep(TenantStepKind.Pools, t)),
        .. placements.Select(t => new TenantStep(TenantStepKind.Lock, t)),
        new(TenantStepKind.Finish),
    ];

    private static List<TenantStep> ResumeSteps(IReadOnlyList<string> placements, IReadOnlyList<string> plans) =>
    [
        .. placements.Select(t => new TenantStep(TenantStepKind.Unlock, t)),
        .. plans.Select(t => new TenantStep(TenantStepKind.Pools, t)),
        new(TenantStepKind.Finish),
    ];

    private static List<TenantStep> AnonymiseSteps(IReadOnlyList<string> placements) =>
    [
        .. placements.Select(t => new TenantStep(TenantStepKind.Anonymise, t)),
        new(TenantStepKind.Finish),
    ];

    private static List<TenantStep> EraseSteps(IReadOnlyList<string> placements, IReadOnlyList<string> plans) =>
    [
        new(TenantStepKind.Index),
        .. plans.Select(t => new TenantStep(TenantStepKind.Pools, t)),
        .. placements.Select(t => new TenantStep(TenantStepKind.Lock, t)),
        .. placements.Select(t => new TenantStep(TenantStepKind.Drop, t)),
        new(TenantStepKind.Finish),
    ];
}
