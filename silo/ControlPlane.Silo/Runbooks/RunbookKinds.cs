namespace ControlPlane.Silo.Runbooks;

/// <summary>The runbooks there are, by the name <c>cpctl runbook KIND TIER</c> and <c>GetRunbook.kind</c> take.</summary>
public static class RunbookKinds
{
    public static readonly IReadOnlyList<string> All = ["failover", "switchover", "restore", "pitr", "rollback", "leak", "rejoin", "erase"];

    public static bool IsKnown(string? kind) => kind is not null && All.Contains(kind, StringComparer.Ordinal);

    public static string Expected => string.Join(", ", All);
}
