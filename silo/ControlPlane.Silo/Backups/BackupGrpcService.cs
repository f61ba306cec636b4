using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Backups;

/// <summary>Backups of a tier: validates, asks the tier's backup grain, maps back.</summary>
internal sealed class BackupGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.BackupService.BackupServiceBase
{
    private static readonly TimeSpan OperationPoll = TimeSpan.FromMilliseconds(200);
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.BackupPolicy> GetBackupPolicy(Proto.GetBackupPolicyRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return BackupMapper.ToProto(env, tier, await Backups(env, tier).GetPolicy());
    }

    public override async Task<Proto.BackupPolicy> SetBackupPolicy(Proto.SetBackupPolicyRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        if (request.Policy is null) throw RequestValidation.Invalid("policy is required; set the fields to change.");
        var grain = Backups(env, tier);
        var merged = BackupMapper.Merge(await grain.GetPolicy(), request.Policy);
        var errors = merged.Validate();
        if (errors.Count > 0) throw RequestValidation.Invalid("policy." + string.Join(" policy.", errors));
        return BackupMapper.ToProto(env, tier, await grain.SetPolicy(merged, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.BackupOperation> StartBackup(Proto.StartBackupRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return BackupMapper.ToProto(await Backups(env, tier).StartBackup(CallerIdentity.Of(context)));
    }

    public override async Task<Proto.ListBackupsResponse> ListBackups(Proto.ListBackupsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var response = new Proto.ListBackupsResponse();
        response.Backups.AddRange((await Backups(env, tier).ListBackups())
            .Where(b => request.IncludeDeleted || b.State != BackupState.Deleted)
            .Select(b => BackupMapper.ToProto(env, tier, b)));
        return response;
    }

    public override async Task<Proto.Backup> GetBackup(Proto.GetBackupRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var id = BackupId("backup_id", request.BackupId);
        var backup = await Backups(env, tier).GetBackup(id)
            ?? throw RequestValidation.NotFound($"backup '{id}' not found in tier '{tier}'.");
        return BackupMapper.ToProto(env, tier, backup);
    }

    public override async Task<Proto.BackupOperation> GetBackupOperation(Proto.GetBackupOperationRequest request, ServerCallContext context) =>
        BackupMapper.ToProto(await OperationAsync(request));

    public override async Task WatchBackupOperation(Proto.GetBackupOperationRequest request, IServerStreamWriter<Proto.BackupOperation> responseStream, ServerCallContext context)
    {
        var op = await OperationAsync(request);
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var last = BackupMapper.ToProto(op);
        await responseStream.WriteAsync(last, context.CancellationToken);
        while (!op.Finished)
        {
            await Task.Delay(OperationPoll, context.CancellationToken);
            var next = await Backups(env, op.Tier).GetOperation(op.Id);
            if (next is null) break;
            var message = BackupMapper.ToProto(next);
            if (!message.Equals(last)) await responseStream.WriteAsync(message, context.CancellationToken);
            (op, last) = (next, message);
        }
    }

    public override async Task<Proto.BackupOperation> Restore(Proto.RestoreRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var backupId = string.IsNullOrEmpty(request.BackupId) ? null : BackupId("backup_id", request.BackupId);
        var target = BackupMapper.Target(request.Target);
        if (!Enum.IsDefined(request.Into)) throw RequestValidation.Invalid($"into {(int)request.Into} is not known; expected instance or standby.");
        var into = request.Into == Proto.RestoreInto.Standby ? RestoreInto.Standby : RestoreInto.Instance;
        return BackupMapper.ToProto(await Backups(env, tier).StartRestore(backupId, target, into, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.ListRestoresResponse> ListRestores(Proto.ListRestoresRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var response = new Proto.ListRestoresResponse();
        response.Restores.AddRange((await Backups(env, tier).ListRestores()).Select(r => BackupMapper.ToProto(env, tier, r)));
        return response;
    }

    public override async Task<Proto.RestoredInstance> RegisterRestore(Proto.RegisterRestoreRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var id = ShortId("restore_id", request.RestoreId, 'r');
        return BackupMapper.ToProto(env, tier, await Backups(env, tier).RegisterRestore(id, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.RestoredInstance> DropRestore(Proto.DropRestoreRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var id = ShortId("restore_id", request.RestoreId, 'r');
        return BackupMapper.ToProto(env, tier, await Backups(env, tier).DropRestore(id, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.RestorePoint> CreateRestorePoint(Proto.CreateRestorePointRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var name = BackupMapper.RestorePointName("name", request.Name);
        var point = await Backups(env, tier).CreateRestorePoint(name, CallerIdentity.Of(context));
        return new Proto.RestorePoint
        {
            Name = point.Name,
            Lsn = new Postgres.Health.Lsn(point.Lsn).ToString(),
            CreatedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(point.At),
            Timeline = point.Timeline,
        };
    }

    public override async Task<Proto.BackupOperation> StartDrill(Proto.StartDrillRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var backupId = string.IsNullOrEmpty(request.BackupId) ? null : BackupId("backup_id", request.BackupId);
        return BackupMapper.ToProto(await Backups(env, tier).StartDrill(backupId, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.ListDrillsResponse> ListDrills(Proto.ListDrillsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        if (request.Limit is < 0 or > 500) throw RequestValidation.Invalid($"limit {request.Limit} is out of range; expected 0 (default 20) to 500.");
        var response = new Proto.ListDrillsResponse();
        response.Drills.AddRange((await Backups(env, tier).ListDrills(request.Limit == 0 ? 20 : request.Limit)).Select(BackupMapper.ToProto));
        return response;
    }

    public override async Task<Proto.ArchiveStatus> GetArchiveStatus(Proto.GetArchiveStatusRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var grain = Backups(env, tier);
        return BackupMapper.ToProto(env, tier, await grain.GetArchiveStatus(), await grain.GetPolicy());
    }

    public override async Task<Proto.RetentionDecision> ApplyRetention(Proto.ApplyRetentionRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return BackupMapper.ToProto(await Backups(env, tier).ApplyRetention(request.DryRun, CallerIdentity.Of(context)), request.DryRun);
    }

    public override async Task<Proto.ListRetentionDecisionsResponse> ListRetentionDecisions(Proto.ListRetentionDecisionsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        if (request.Limit is < 0 or > 500) throw RequestValidation.Invalid($"limit {request.Limit} is out of range; expected 0 (default 20) to 500.");
        var response = new Proto.ListRetentionDecisionsResponse();
        response.Decisions.AddRange((await Backups(env, tier).ListRetentionDecisions(request.Limit == 0 ? 20 : request.Limit)).Select(d => BackupMapper.ToProto(d, false)));
        return response;
    }

    public override async Task<Proto.BackupOperation> ExportTenant(Proto.ExportTenantRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var tenant = RequestValidation.Name("tenant", request.Tenant);
        return BackupMapper.ToProto(await Backups(env, tier).StartTenantExport(tenant, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.BackupOperation> ImportTenant(Proto.ImportTenantRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var tenant = RequestValidation.Name("tenant", request.Tenant);
        var exportId = ShortId("export_id", request.ExportId, 'e');
        return BackupMapper.ToProto(await Backups(env, tier).StartTenantImport(tenant, exportId, request.Replace, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.ListTenantExportsResponse> ListTenantExports(Proto.ListTenantExportsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var tenant = RequestValidation.Name("tenant", request.Tenant);
        var response = new Proto.ListTenantExportsResponse();
        response.Exports.AddRange((await Backups(env, tier).ListTenantExports(tenant)).Select(BackupMapper.ToProto));
        return response;
    }

    private async Task<BackupOperation> OperationAsync(Proto.GetBackupOperationRequest request)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        if (!BackupOperation.TryParseId(request.OperationId, out var tier))
        {
            throw RequestValidation.Invalid(
                $"operation_id '{RequestValidation.Shown(request.OperationId)}' is invalid; expected '<tier>.b<number>' as a backup command returned it, like oltp.b3.");
        }
        await TierLookup.RequireAsync(cluster, env, tier);
        return await Backups(env, tier).GetOperation(request.OperationId)
            ?? throw RequestValidation.NotFound($"backup operation '{request.OperationId}' not found in tier '{tier}' (only the last 50 are kept).");
    }

    /// <summary>A backup id as the control plane makes them: 20261127T030000Z-12.</summary>
    private static string BackupId(string field, string value)
    {
        if (value.Length is 0 or > 40 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            throw RequestValidation.Invalid($"{field} '{RequestValidation.Shown(value)}' is invalid; expected a backup id as ListBackups shows it, like 20261127T030000Z-12.");
        return value;
    }

    /// <summary>A drill, restore or export id: a letter then a number (r3, e7).</summary>
    private static string ShortId(string field, string value, char prefix)
    {
        if (value.Length is < 2 or > 20 || value[0] != prefix || !value.AsSpan(1).ToString().All(char.IsAsciiDigit))
            throw RequestValidation.Invalid($"{field} '{RequestValidation.Shown(value)}' is invalid; expected '{prefix}' and a number, like {prefix}3.");
        return value;
    }

    private Task<(string Env, string Tier)> TierAsync(string environment, string tier) =>
        TierLookup.RequireAsync(cluster, RequestValidation.Environment(environment, _defaultEnvironment), RequestValidation.Name("tier", tier));

    private IBackupGrain Backups(string env, string tier) => cluster.GetGrain<IBackupGrain>(FleetKeys.Tier(env, tier));
}
