namespace ControlPlane.Grains.Coverage;

/// <summary>An operational area: a stable id (used in alert labels and JSON), a title, and the page that explains it.</summary>
public sealed record CoverageArea(string Id, string Title, string Doc);

/// <summary>
/// The eleven operational areas the fleet's documentation review measured by hand, in the review's order. Ids are
/// part of the API (the <c>area</c> label of the CoverageAreaDegraded alert, <c>cpctl coverage --json</c>): never rename.
/// </summary>
public static class CoverageAreas
{
    public static readonly CoverageArea ConnectionPooling = new("connection_pooling", "Connection pooling", "docs/pools.md");
    public static readonly CoverageArea BackupRecovery = new("backup_recovery", "Backup and recovery", "docs/backups.md");
    public static readonly CoverageArea Migrations = new("migrations", "Migrations", "docs/migrations.md");
    public static readonly CoverageArea EnvironmentParity = new("environment_parity", "Environment parity", "docs/parity.md");
    public static readonly CoverageArea TenantIsolation = new("tenant_isolation", "Tenant isolation", "docs/tenants.md");
    public static readonly CoverageArea PerformanceMonitoring = new("performance_monitoring", "Performance monitoring", "docs/monitoring.md");
    public static readonly CoverageArea SecurityHardening = new("security_hardening", "Security hardening", "docs/hardening.md");
    public static readonly CoverageArea HighAvailability = new("high_availability", "High availability", "docs/failover.md");
    public static readonly CoverageArea ChangeManagement = new("change_management", "Change management", "docs/migrations.md#the-change-workflow");
    public static readonly CoverageArea CapacityPlanning = new("capacity_planning", "Capacity planning", "docs/operability.md#capacity-planning");
    public static readonly CoverageArea IntegrationTesting = new("integration_testing", "Integration testing", "docs/operability.md#integration-testing");

    public static readonly IReadOnlyList<CoverageArea> All =
    [
        ConnectionPooling, BackupRecovery, Migrations, EnvironmentParity, TenantIsolation, PerformanceMonitoring,
        SecurityHardening, HighAvailability, ChangeManagement, CapacityPlanning, IntegrationTesting,
    ];

    public static CoverageArea? Find(string id) => All.FirstOrDefault(a => a.Id == id);
}
