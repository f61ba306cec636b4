namespace ControlPlane.Grains.Failover;

/// <summary>A command carried a term older than one the replica already obeyed: it comes from a stale tier activation.</summary>
[GenerateSerializer, Alias("controlplane.StaleTermException")]
public sealed class StaleTermException : Exception
{
    public StaleTermException()
    {
    }

    public StaleTermException(string message) : base(message)
    {
    }

    public StaleTermException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>The replica cannot do this with the driver it has (SQL-only hosts cannot be rewound or stopped).</summary>
[GenerateSerializer, Alias("controlplane.NeedsOperatorException")]
public sealed class NeedsOperatorException : Exception
{
    public NeedsOperatorException()
    {
    }

    public NeedsOperatorException(string message) : base(message)
    {
    }

    public NeedsOperatorException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>The tier cannot take this command now (another operation runs, or it is not configured).</summary>
[GenerateSerializer, Alias("controlplane.TierConflictException")]
public sealed class TierConflictException : Exception
{
    public TierConflictException()
    {
    }

    public TierConflictException(string message) : base(message)
    {
    }

    public TierConflictException(string message, Exception inner) : base(message, inner)
    {
    }
}
