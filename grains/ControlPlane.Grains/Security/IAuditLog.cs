namespace ControlPlane.Grains.Security;

/// <summary>
/// The append-only audit log in the catalog. The gateway records every mutating RPC and every denial;
/// grains and services record the decisions they take on their own with principal <see cref="AuditEntry.ControlPlane"/>.
/// Registered in the silo's container; take it through the constructor.
/// </summary>
public interface IAuditLog
{
    /// <summary>Appends one entry. Entries are never updated or deleted.</summary>
    Task AppendAsync(AuditEntry entry, CancellationToken ct);
}

/// <summary>Outcome of an audited action, as stored: "ok", "denied" or "failed".</summary>
public static class AuditOutcome
{
    public const string Ok = "ok";
    public const string Denied = "denied";
    public const string Failed = "failed";
}

/// <summary>One audit log entry. <see cref="Arguments"/> must already have its secrets blanked.</summary>
public sealed record AuditEntry
{
    /// <summary>The principal of decisions the control plane takes on its own (failover, leak termination, retention).</summary>
    public const string ControlPlane = "controlplane";

    /// <summary>Who acted: a token's name, a certificate's principal, or <see cref="ControlPlane"/>.</summary>
    public required string Principal { get; init; }

    /// <summary>The RPC ("controlplane.v1.FleetService/GetTier") or the autonomous action ("failover/promote").</summary>
    public required string Rpc { get; init; }

    /// <summary><see cref="AuditOutcome"/>.</summary>
    public required string Outcome { get; init; }

    /// <summary>What was acted on, most general first: "local/oltp", "local/oltp/oltp-2".</summary>
    public string Target { get; init; } = "";

    /// <summary>JSON of the request or decision inputs, secrets blanked.</summary>
    public string Arguments { get; init; } = "{}";

    /// <summary>Peer address of the caller; empty for the control plane's own decisions.</summary>
    public string Source { get; init; } = "";

    /// <summary>gRPC status code name, or "OK" for decisions.</summary>
    public string Status { get; init; } = "OK";

    /// <summary>Why (a denial's message, a decision's reason). Never a secret.</summary>
    public string Detail { get; init; } = "";

    /// <summary>Ties the entry to the operation it belongs to; a new id when empty.</summary>
    public string OperationId { get; init; } = "";
}
