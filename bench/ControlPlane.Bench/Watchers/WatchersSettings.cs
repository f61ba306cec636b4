namespace ControlPlane.Bench.Watchers;

/// <summary>One <c>watchers</c> run: how many WatchTier streams, how many never read, which changes to make.</summary>
public sealed record WatchersSettings(
    Uri Endpoint,
    string Environment,
    string Tier,
    int Watchers,
    int Slow,
    int Channels,
    int Changes,
    TimeSpan Interval,
    string? Token,
    int? SiloPid);
