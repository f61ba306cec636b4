using ControlPlane.Grains.Security;

namespace ControlPlane.Grains.Backups;

public sealed partial class BackupGrain
{
    private const int KeptExports = 200;

    /// <summary>Exports the tenant's schema with pg_dump into the repository (and the second one).</summary>
    public async Task<BackupOperation> StartTenantExport(string tenant, string principal)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        var exportId = $"e{S.Sequence + 1}";
        var policy = Policy;
        return await BeginAsync(BackupOperationKind.TenantExport, principal, exportId, $"export of tenant {tenant}", async (opId, ct) =>
        {
            var problem = engine.CheckRepository(policy.Repository);
            if (problem.Length > 0) throw new InvalidOperationException(problem);
            var (snapshot, spec) = await TopologyAsync();
            var primary = spec.Replicas.First(r => r.Name == snapshot.Primary);
            var file = Path.Combine(Repository(policy).ExportDirectory, tenant, $"{exportId}.dump");
            _progress[opId] = new Postgres.Backups.BackupProgress("exporting", 0, 0);
            var result = await engine.ExportTenantAsync(Health.ReplicaGrain.Endpoint(primary), tenant, file, ct);
            if (SecondRepository(policy) is { } second)
            {
                var copy = Path.Combine(second.ExportDirectory, tenant, $"{exportId}.dump");
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(result.File, copy + ".tmp", overwrite: true);
                File.Move(copy + ".tmp", copy, overwrite: true);
            }
            S.Exports.Add(new TenantExportRecord(exportId, tenant, DateTimeOffset.UtcNow, result.File, result.Bytes,
                [.. result.Counts.Select(TableCountRecord.From)], principal));
            if (S.Exports.Count > KeptExports) S.Exports.RemoveRange(0, S.Exports.Count - KeptExports);
            await StepAsync(opId, $"exported {result.Counts.Count} table(s), {result.Counts.Sum(c => c.Rows)} row(s), {result.Bytes} bytes to {result.File}");
            Audit("tenant/export", AuditOutcome.Ok, $"export {exportId} of tenant {tenant}", opId, principal);
            return exportId;
        });
    }

    /// <summary>Restores a tenant export into the tier's primary; <paramref name="replace"/> swaps the tenant's schema atomically.</summary>
    public async Task<BackupOperation> StartTenantImport(string tenant, string exportId, bool replace, string principal)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        var export = S.Exports.FirstOrDefault(e => e.Id == exportId && e.Tenant == tenant)
            ?? throw new KeyNotFoundException($"export '{exportId}' of tenant '{tenant}' not found in {_env}/{_tier}.");
        return await BeginAsync(BackupOperationKind.TenantImport, principal, exportId, $"import of export {exportId} into tenant {tenant}{(replace ? " (replacing it)" : "")}", async (opId, ct) =>
        {
            var file = File.Exists(export.File) ? export.File
                : SecondRepository(Policy) is { } second && File.Exists(Path.Combine(second.ExportDirectory, tenant, $"{exportId}.dump"))
                    ? Path.Combine(second.ExportDirectory, tenant, $"{exportId}.dump")
                    : throw new InvalidOperationException($"export file {export.File} is missing from every repository.");
            var (snapshot, spec) = await TopologyAsync();
            var primary = spec.Replicas.First(r => r.Name == snapshot.Primary);
            _progress[opId] = new Postgres.Backups.BackupProgress("importing", 0, 0);
            var counts = await engine.ImportTenantAsync(Health.ReplicaGrain.Endpoint(primary), tenant, file, replace, ct);
            await StepAsync(opId, $"imported {counts.Count} table(s), {counts.Sum(c => c.Rows)} row(s) into tenant {tenant}");
            Audit("tenant/import", AuditOutcome.Ok, $"import of export {exportId} into tenant {tenant}, replace {replace}", opId, principal);
            return exportId;
        });
    }
}
