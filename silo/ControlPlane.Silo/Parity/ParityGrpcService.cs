using System.Globalization;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Parity;
using ControlPlane.Migrations.Parity;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using ControlPlane.Silo.Security;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Parity;

/// <summary>
/// Schema snapshots, their history, diffs and the drift status. Validates, resolves targets (<see cref="ParityTargetResolver"/>),
/// reads through the tier's parity grain, stores through the target's history grain, diffs with the pure library.
/// </summary>
internal sealed class ParityGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.ParityService.ParityServiceBase
{
    private const int DefaultPageSize = 20;
    private const int MaxPageSize = 500;
    private readonly string _defaultEnvironment = options.Value.Environment;
    private readonly ParityTargetResolver _resolver = new(cluster);

    public override async Task<Proto.SchemaSnapshotInfo> SnapshotSchema(Proto.SnapshotSchemaRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var target = await _resolver.ResolveAsync(env, Parse("target", request.Target, allowSequence: false));
        var snapshot = await ReadAsync(env, target);
        var stored = await History(env, target).Store(snapshot.ToJson(), snapshot.Hash(), snapshot.Objects.Count(), SecurityInterceptor.PrincipalOf(context).Display);
        return ParityMapper.ToProto(target.Key, stored);
    }

    public override async Task<Proto.ListSnapshotsResponse> ListSnapshots(Proto.ListSnapshotsRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        if (request.PageSize is < 0 or > MaxPageSize)
            throw RequestValidation.Invalid($"page_size {request.PageSize} is out of range; expected 0 (default {DefaultPageSize}) to {MaxPageSize}.");
        var skip = 0;
        if (request.PageToken.Length > 0 && (!int.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out skip) || skip < 1))
            throw RequestValidation.Invalid($"page_token '{RequestValidation.Shown(request.PageToken)}' is invalid; expected the next_page_token of a previous response, or empty for the newest.");
        var target = await _resolver.ResolveAsync(env, Parse("target", request.Target, allowSequence: false));
        var take = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var page = await History(env, target).List(skip, take);
        var response = new Proto.ListSnapshotsResponse { Target = target.Key, Total = page.Total };
        response.Snapshots.AddRange(page.Snapshots.Select(s => ParityMapper.ToProto(target.Key, s)));
        if (skip + page.Snapshots.Count < page.Total) response.NextPageToken = (skip + page.Snapshots.Count).ToString(CultureInfo.InvariantCulture);
        return response;
    }

    public override async Task<Proto.SchemaDiffReport> DiffSchemas(Proto.DiffSchemasRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var a = Parse("a", request.A, allowSequence: true);
        var b = Parse("b", request.B, allowSequence: true);
        var (aName, left) = await SideAsync(env, "a", a);
        var (bName, right) = await SideAsync(env, "b", b);
        SchemaReconciliation plan;
        try
        {
            plan = ReconcilePlanner.Plan(ParityDrift.WithoutOwnRoleGrants(left), ParityDrift.WithoutOwnRoleGrants(right));
        }
        catch (IncompatibleSnapshotsException e)
        {
            throw RequestValidation.Invalid($"a '{aName}' and b '{bName}' cannot be compared: {e.Message}.");
        }
        return ParityMapper.ToProto(aName, bName, left, right, plan);
    }

    public override async Task<Proto.ParityStatus> GetParityStatus(Proto.GetParityStatusRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        IReadOnlyList<string> tiers = request.Tier.Length > 0
            ? [(await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", request.Tier))).Tier]
            : await cluster.GetGrain<IFleetGrain>(env).ListTiers();
        var status = new Proto.ParityStatus { Environment = env };
        foreach (var tier in tiers.Order(StringComparer.Ordinal))
        {
            status.Tiers.Add(ParityMapper.ToProto(env, tier, await cluster.GetGrain<IParityGrain>(FleetKeys.Tier(env, tier)).GetLast()));
        }
        return status;
    }

    public override async Task<Proto.TierDrift> CheckDrift(Proto.CheckDriftRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var (_, tier) = await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", request.Tier));
        var report = await cluster.GetGrain<IParityGrain>(FleetKeys.Tier(env, tier)).Check(scheduled: false);
        return ParityMapper.ToProto(env, tier, report);
    }

    /// <summary>A diff side: a stored snapshot (TARGET@N) or the target read now.</summary>
    private async Task<(string Name, SchemaSnapshot Snapshot)> SideAsync(string env, string field, ParityTargetRef side)
    {
        var target = await _resolver.ResolveAsync(env, side, field);
        if (side.Sequence is not { } sequence) return (target.Key, await ReadAsync(env, target));
        var stored = await History(env, target).Get(sequence)
            ?? throw RequestValidation.NotFound($"{field}: snapshot {sequence} of '{target.Key}' is not stored; cpctl parity history {target.Key} lists the stored ones.");
        return ($"{target.Key}@{sequence}", SchemaSnapshot.FromJson(stored.Json));
    }

    private async Task<SchemaSnapshot> ReadAsync(string env, ParityTarget target)
    {
        var read = await cluster.GetGrain<IParityGrain>(FleetKeys.Tier(env, target.Tier)).Read(target.Database, target.Schema);
        return read.Failure switch
        {
            ParityReadFailure.None => SchemaSnapshot.FromJson(read.Json),
            ParityReadFailure.DatabaseNotFound or ParityReadFailure.SchemaNotFound => throw RequestValidation.NotFound($"target '{target.Key}': {read.Error}."),
            _ => throw new RpcException(new Status(StatusCode.Unavailable, read.Error)),
        };
    }

    private IParityHistoryGrain History(string env, ParityTarget target) => cluster.GetGrain<IParityHistoryGrain>($"{env}/{target.Key}");

    private static ParityTargetRef Parse(string field, string text, bool allowSequence)
    {
        try
        {
            return ParityTargets.Parse(field, text, allowSequence);
        }
        catch (ArgumentException e)
        {
            throw RequestValidation.Invalid(e.Message);
        }
    }
}
