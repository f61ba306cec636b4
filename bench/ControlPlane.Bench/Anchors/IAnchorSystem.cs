namespace ControlPlane.Bench.Anchors;

/// <summary>One PostgreSQL node of a system under test: its port, data directory, and a name for the report.</summary>
public sealed record AnchorNode(string Name, int Port, string DataDirectory);

/// <summary>
/// A high-availability system the side-by-side benchmark breaks the same way as the others: ours, Patroni (two
/// timing profiles) or pg_auto_failover. The benchmark itself only sees the nodes' ports and data directories (the
/// faults are signals to processes found from there); what differs per system is how it is started, what a node's
/// agent is, and whether it has a separate consensus store to lose.
/// </summary>
public interface IAnchorSystem : IAsyncDisposable
{
    string Name { get; }
    /// <summary>The timing settings in force, for the report.</summary>
    string Settings { get; }
    IReadOnlyList<AnchorNode> Nodes { get; }
    /// <summary>The user the writer connects as and its password.</summary>
    (string User, string Password) Credentials { get; }

    Task StartAsync(TextWriter log, CancellationToken ct);

    /// <summary>Whether the node's agent runs beside its PostgreSQL on the same simulated host (null: not measurable in this run, and why).</summary>
    string? NodeLossUnsupported { get; }

    /// <summary>SIGKILL of the node's agent and its PostgreSQL together (the whole host lost).</summary>
    void KillNode(AnchorNode node);

    /// <summary>Brings a node lost by <see cref="KillNode"/> back (its agent restarted on the same data).</summary>
    Task RestartNodeAsync(AnchorNode node, CancellationToken ct);

    /// <summary>SIGKILL of the consensus store's leader member; returns its name, or null when the system has none.</summary>
    Task<string?> KillConsensusLeaderAsync(CancellationToken ct);

    /// <summary>Restarts the consensus members killed by <see cref="KillConsensusLeaderAsync"/>.</summary>
    Task RestartConsensusAsync(CancellationToken ct);

    /// <summary>
    /// Before the crash-loop trials (g): whatever the system must be told so that one trial's crashes do not decide
    /// the next (ours: a crash-loop window shorter than the time between trials); returns what it changed for the
    /// report, or null when nothing.
    /// </summary>
    Task<string?> PrepareCrashLoopTrialsAsync(CancellationToken ct);

    /// <summary>The system's own view agrees the cluster is whole (besides the writer's check that one node is writable and the rest stream from it).</summary>
    Task<bool> SettledAsync(CancellationToken ct);
}
