namespace ControlPlane.Grains.Changes;

/// <summary>Review rules of schema changes. Bound from <c>ControlPlane:Changes</c>.</summary>
public sealed class ChangeOptions
{
    public const string Section = "ControlPlane:Changes";

    /// <summary>Approvals a change needs before it may roll out, on a tier not named in <see cref="Tiers"/>.</summary>
    public int RequiredApprovals { get; set; } = 1;

    /// <summary>Per tier: approvals its changes need (e.g. <c>ControlPlane:Changes:Tiers:oltp = 2</c>).</summary>
    public Dictionary<string, int> Tiers { get; set; } = [];

    public int RequiredFor(string tier) => Math.Max(1, Tiers.TryGetValue(tier, out var n) ? n : RequiredApprovals);
}
