namespace ControlPlane.Grains.Changes;

/// <summary>
/// One schema change request (key <c>env/change-id</c>, <see cref="ChangeKeys"/>): submitted with its migration set,
/// linted and planned, approved by operators other than its author, rolled out target by target in batches, and
/// halted, resumed or rolled back. Commands answer once their decision is persisted; the rollout itself runs in the
/// grain's own turns (timers, and a reminder after a silo restart), so callers follow it with <see cref="Get"/>.
/// </summary>
[Alias("controlplane.IChangeGrain")]
public interface IChangeGrain : IGrainWithStringKey
{
    [Alias("Submit")]
    Task<ChangeView> Submit(string tier, IReadOnlyList<ChangeFile> files, string description, string principal);

    [Alias("Approve")]
    Task<ChangeView> Approve(string principal, string waiver);

    [Alias("Rollout")]
    Task<ChangeView> Rollout(ChangeStrategy strategy, string principal);

    /// <summary>
    /// Halts at once, even while a batch is in flight (interleaves with it): the halt is persisted and answered
    /// before the batch ends; targets of the batch that have not started are not started, those running finish
    /// (a DDL statement is never cancelled halfway), and no later batch starts.
    /// </summary>
    [Alias("Halt"), AlwaysInterleave]
    Task<ChangeView> Halt(string reason, string principal);

    [Alias("Resume")]
    Task<ChangeView> Resume(string principal);

    [Alias("Rollback")]
    Task<ChangeView> Rollback(string principal);

    [Alias("Tag")]
    Task<ChangeView> Tag(string tag, string principal);

    /// <summary>The change now (interleaves with a running batch); null when never submitted.</summary>
    [Alias("Get"), AlwaysInterleave]
    Task<ChangeView?> Get();
}

/// <summary>
/// The changes of one tier (key <c>env/tier</c>): the list, the tags, and the one rollout that may run on the tier at a
/// time. A change claims the tier when its rollout starts and releases it when it completes or is rolled back.
/// </summary>
[Alias("controlplane.IChangeLedgerGrain")]
public interface IChangeLedgerGrain : IGrainWithStringKey
{
    [Alias("Add")]
    Task Add(string changeId);

    [Alias("List"), AlwaysInterleave]
    Task<IReadOnlyList<string>> List();

    /// <summary>Claims the tier for <paramref name="changeId"/>; answers the other change holding it, or null when claimed.</summary>
    [Alias("Claim")]
    Task<string?> Claim(string changeId);

    [Alias("Release")]
    Task Release(string changeId);

    /// <summary>Names a schema version; answers the other change that holds the tag, or null when it is now this change's.</summary>
    [Alias("ClaimTag")]
    Task<string?> ClaimTag(string tag, string changeId);
}

public static class ChangeKeys
{
    public static string Of(string environment, string changeId) => $"{environment}/{changeId}";
}

/// <summary>How a change command was refused.</summary>
[GenerateSerializer, Alias("controlplane.ChangeRefusalKind")]
public enum ChangeRefusalKind
{
    /// <summary>A request argument is wrong (malformed SQL, duplicate version): INVALID_ARGUMENT.</summary>
    Invalid = 0,
    /// <summary>The caller may not (author approving): PERMISSION_DENIED.</summary>
    Denied = 1,
    /// <summary>The change's state forbids it: FAILED_PRECONDITION.</summary>
    Precondition = 2,
    NotFound = 3,
    Exists = 4,
}

/// <summary>A change command refused; nothing was done.</summary>
[GenerateSerializer, Alias("controlplane.ChangeRefusedException")]
public sealed class ChangeRefusedException : Exception
{
    public ChangeRefusedException()
    {
    }

    public ChangeRefusedException(string message) : base(message)
    {
    }

    public ChangeRefusedException(string message, Exception inner) : base(message, inner)
    {
    }

    public ChangeRefusedException(ChangeRefusalKind kind, string message) : base(message) => Kind = kind;

    [Id(0)] public ChangeRefusalKind Kind { get; init; } = ChangeRefusalKind.Precondition;
}
