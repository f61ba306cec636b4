namespace ControlPlane.Bench.Fleet;

/// <summary>One GetTier (or ListTiers, <see cref="Rpc"/>) load run: who to call, how hard, for how long.</summary>
public sealed record GetTierSettings(
    Uri Endpoint,
    string Environment,
    string Tier,
    int Concurrency,
    int Channels,
    TimeSpan Duration,
    TimeSpan Warmup,
    TimeSpan CallTimeout,
    string? Token = null,
    string Rpc = GetTierSettings.GetTier)
{
    public const string GetTier = "GetTier";
    public const string ListTiers = "ListTiers";
}
