namespace ControlPlane.Bench.Anchors;

/// <summary>Patroni's timing: the leader key's <c>ttl</c>, the HA loop's <c>loop_wait</c>, and <c>retry_timeout</c> for DCS and PostgreSQL operations (all seconds).</summary>
public sealed record PatroniProfile(string Name, int Ttl, int LoopWait, int RetryTimeout)
{
    /// <summary>Patroni's documented defaults.</summary>
    public static PatroniProfile Default { get; } = new("patroni-default", 30, 10, 10);

    /// <summary>
    /// As short as Patroni 3.0.2 accepts while keeping its own rule <c>loop_wait + 2 × retry_timeout ≤ ttl</c>
    /// (its docs: otherwise the leader can lose its key while retrying).
    /// </summary>
    public static PatroniProfile Tuned { get; } = new("patroni-tuned", 10, 2, 4);

    public string Describe() => $"ttl {Ttl} s, loop_wait {LoopWait} s, retry_timeout {RetryTimeout} s";
}
