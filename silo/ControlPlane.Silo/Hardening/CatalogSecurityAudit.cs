using ControlPlane.Grains.Hardening;
using ControlPlane.Postgres.Hardening;
using ControlPlane.Silo.Bootstrap;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Silo.Hardening;

/// <summary>
/// The hardening audit of the control plane's own catalog: the same checks as a tier's replicas, read over this
/// silo's catalog connection (its credentials never leave Npgsql). The catalog holds every decision, token hash and
/// audit record of the fleet, so it is held to the fleet's standard. Nothing is stored: the answer is the audit.
/// </summary>
internal sealed class CatalogSecurityAudit(EmbeddedInstances instances, IOptions<HardeningExpectations> expectations, ILogger<CatalogSecurityAudit> logger)
{
    /// <summary>The name the catalog goes by in an audit's replica list.</summary>
    public const string Target = "catalog";

    public async Task<TierAudit> AuditAsync(CancellationToken ct)
    {
        var settings = expectations.Value;
        var context = new HardeningContext(settings, PoolCapacity: null, ControlPlaneReserve: 0, DateTimeOffset.UtcNow,
            NoPool: "the catalog lends no connections to leases, so there is no pool capacity to compare it with");
        var facts = await ReadAsync(settings.Timeout, ct);
        var findings = HardeningAudit.Run(facts, context);
        var replica = new ReplicaAudit(Target, HardeningAudit.Score(findings), findings);
        logger.LogInformation("Hardening audit of the catalog ({Catalog}): score {Score}", instances.CatalogDescription, replica.Score);
        return new TierAudit("", Target, context.Now, replica.Score, [replica]);
    }

    private async Task<HardeningFacts> ReadAsync(TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await HardeningFactsReader.ReadAsync(new NpgsqlConnectionStringBuilder(instances.CatalogConnectionString), timeout, ct);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            // Npgsql's messages name host and port, never the password.
            throw new CatalogUnreachableException($"the catalog ({instances.CatalogDescription}) could not be read for its audit: {ex.Message}", ex);
        }
    }
}

/// <summary>The catalog did not answer the audit's session: the gateway answers UNAVAILABLE.</summary>
internal sealed class CatalogUnreachableException(string message, Exception inner) : Exception(message, inner);
