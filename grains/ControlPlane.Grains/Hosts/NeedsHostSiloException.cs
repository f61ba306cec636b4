using ControlPlane.Postgres.Hosts;

namespace ControlPlane.Grains.Hosts;

/// <summary>
/// A command needs the silo of the replica's host (processes, files) and this activation reaches the instance over
/// SQL only. The gateway answers FAILED_PRECONDITION with the message, which names the operation and the host.
/// </summary>
[GenerateSerializer, Alias("controlplane.NeedsHostSiloException")]
public sealed class NeedsHostSiloException : Exception
{
    public NeedsHostSiloException()
    {
    }

    public NeedsHostSiloException(string message) : base(message)
    {
    }

    public NeedsHostSiloException(string message, Exception inner) : base(message, inner)
    {
    }

    public NeedsHostSiloException(NeedsHostSilo needs) : base(needs?.Message)
    {
        ArgumentNullException.ThrowIfNull(needs);
        Operation = needs.Operation;
        Host = needs.Host;
    }

    /// <summary>What was asked ("rejoining it as a standby").</summary>
    [Id(0)] public string Operation { get; init; } = "";

    /// <summary>The host whose silo is needed.</summary>
    [Id(1)] public string Host { get; init; } = "";
}
